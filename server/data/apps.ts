/**
 * Partner apps: who may fetch data with signed requests (docs/protocol.md section 3).
 *
 * Rules:
 * - An app is an id and an EIP-55 checksummed address; requests are verified against
 *   that address only. When the server makes the key pair, the private key is returned
 *   to the caller once and never stored or logged.
 * - Only the owner (the signed-in user who registered it) may disable or enable it
 *   through the API; apps made with the CLI without `--owner` have no owner and are
 *   managed with the CLI alone.
 * - An owner has at most `maxPerOwner` apps (MAX_APPS_PER_USER), counted and created in one
 *   transaction that first locks the owner's row, so parallel creates cannot pass the cap.
 */
import { Wallet, getAddress, hexlify, randomBytes } from "ethers";
import type { App } from "../../generated/sqlite/client";
import type { AppSummary } from "../../lib/protocol/data";
import type { Result } from "../../lib/protocol/errors";
import type { Db } from "../db/client";

export type { App };

export interface CreateAppInput {
  name: string;
  /** An address the partner holds the key of; without it a key pair is made here. */
  address?: string;
  /** null: no owner (CLI-managed). */
  ownerUserId: string | null;
  rateLimitPerMinute?: number;
  /** An owner's apps, at most (unset: no cap, as for the CLI). */
  maxPerOwner?: number;
}

export type CreateAppResult = Result<{ app: App; privateKey?: string }, "invalid_request" | "too_many_apps">;

/** EIP-55 form of a 0x address, or null (bad hex, or mixed case with a wrong checksum). */
export function normaliseAddress(address: string): string | null {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) return null;
  try {
    return getAddress(address);
  } catch {
    return null;
  }
}

export async function createApp(db: Db, input: CreateAppInput): Promise<CreateAppResult> {
  let address: string;
  let privateKey: string | undefined;
  if (input.address !== undefined) {
    const normalised = normaliseAddress(input.address);
    if (normalised === null) return { ok: false, code: "invalid_request", message: "The address is not valid." };
    address = normalised;
  } else {
    // Not Wallet.createRandom(): it derives a mnemonic we never use, at the cost of a PBKDF2 run.
    const wallet = new Wallet(hexlify(randomBytes(32)));
    address = wallet.address;
    privateKey = wallet.privateKey;
  }
  const data = {
    name: input.name,
    address,
    ownerUserId: input.ownerUserId,
    ...(input.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: input.rateLimitPerMinute } : {}),
  };
  const { ownerUserId, maxPerOwner } = input;
  if (ownerUserId === null || maxPerOwner === undefined) {
    const app = await db.app.create({ data });
    return privateKey === undefined ? { ok: true, app } : { ok: true, app, privateKey };
  }
  const app = await db.$transaction(async (tx) => {
    // A no-op write locks the owner's row (PostgreSQL) or takes the write lock (SQLite) before counting.
    await tx.$executeRaw`UPDATE "User" SET "id" = "id" WHERE "id" = ${ownerUserId}`;
    if ((await tx.app.count({ where: { ownerUserId } })) >= maxPerOwner) return null;
    return tx.app.create({ data });
  });
  if (app === null) return { ok: false, code: "too_many_apps" };
  return privateKey === undefined ? { ok: true, app } : { ok: true, app, privateKey };
}

/** The owner's apps, oldest first. */
export function listAppsOfOwner(db: Db, ownerUserId: string): Promise<App[]> {
  return db.app.findMany({ where: { ownerUserId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
}

/** Every app, oldest first (the CLI). */
export function listAllApps(db: Db): Promise<App[]> {
  return db.app.findMany({ orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
}

export function findAppById(db: Db, id: string): Promise<App | null> {
  return db.app.findUnique({ where: { id } });
}

/**
 * Disables or enables an app. `actingUserId` undefined means the operator (the CLI),
 * who may change any app; a user may change only apps they own.
 */
export async function setAppActive(
  db: Db,
  id: string,
  isActive: boolean,
  actingUserId?: string,
): Promise<Result<{ app: App }, "not_found" | "forbidden">> {
  const app = await findAppById(db, id);
  if (!app) return { ok: false, code: "not_found" };
  if (actingUserId !== undefined && app.ownerUserId !== actingUserId) return { ok: false, code: "forbidden" };
  if (app.active === isActive) return { ok: true, app };
  return { ok: true, app: await db.app.update({ where: { id }, data: { active: isActive } }) };
}

export function toAppSummary(app: App): AppSummary {
  return {
    id: app.id,
    name: app.name,
    address: app.address,
    active: app.active,
    createdAt: app.createdAt.toISOString(),
    lastUsedAt: app.lastUsedAt?.toISOString() ?? null,
  };
}
