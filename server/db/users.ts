import type { MeResponse, PublicUser } from "../../lib/protocol/login";
import type { Prisma, User } from "../../generated/sqlite/client";
import type { Db } from "./client";

export type { User };

export type Claims = Record<string, unknown>;

export interface LoginInput {
  /** EIP-55 checksummed: the caller has verified and normalised it. */
  address: string;
  /** Claims disclosed at this login; they overwrite earlier values key by key. */
  claims?: Claims;
  ip?: string;
  userAgent?: string;
  /** How the user proved control of the address, e.g. "qr". */
  method: string;
}

/**
 * Records a login: creates the user on first sight, otherwise stamps lastLoginAt and
 * merges the new claims, and appends a LoginEvent, all in one transaction.
 */
export async function upsertUserOnLogin(db: Db, input: LoginInput): Promise<User> {
  const now = new Date();
  const claims = input.claims ?? {};
  if (Object.keys(claims).length > 0) return upsertUserWithClaims(db, input, claims, now);
  // The common case, on the login hot path: one batched transaction (no round trip
  // back to JS between its statements, unlike an interactive one, which holds
  // SQLite's single connection for its whole length).
  const [user] = await db.$transaction([
    db.user.upsert({
      where: { address: input.address },
      create: { address: input.address, claims: {}, createdAt: now, lastLoginAt: now },
      update: { lastLoginAt: now },
    }),
    db.loginEvent.create({ data: { user: { connect: { address: input.address } }, ...loginEventOf(input, now) } }),
  ]);
  return user;
}

function loginEventOf(input: LoginInput, at: Date) {
  return { at, ip: input.ip ?? null, userAgent: input.userAgent ?? null, method: input.method };
}

/** With new claims: merge them into the stored ones inside one interactive transaction. */
async function upsertUserWithClaims(db: Db, input: LoginInput, claims: Claims, now: Date): Promise<User> {
  return db.$transaction(async (tx) => {
    // One INSERT ... ON CONFLICT DO UPDATE, and a write first: SQLite takes the write
    // lock at once (waiting on the busy timeout) instead of upgrading a read lock,
    // which fails at once under contention; PostgreSQL locks the row, so concurrent
    // logins of one user merge their claims in turn instead of losing some.
    let user = await tx.user.upsert({
      where: { address: input.address },
      create: { address: input.address, claims: claims as Prisma.InputJsonObject, createdAt: now, lastLoginAt: now },
      update: { lastLoginAt: now },
    });
    const stored = readClaims(user.claims);
    if (!isSubset(claims, stored)) {
      user = await tx.user.update({
        where: { id: user.id },
        data: { claims: { ...stored, ...claims } as Prisma.InputJsonObject },
      });
    }
    await tx.loginEvent.create({ data: { userId: user.id, ...loginEventOf(input, now) } });
    return user;
  });
}

export function findUserById(db: Db, id: string): Promise<User | null> {
  return db.user.findUnique({ where: { id } });
}

export function toPublicUser(user: User): PublicUser {
  return { id: user.id, address: user.address, claims: readClaims(user.claims) };
}

export function toMeUser(user: User): MeResponse["user"] {
  return {
    ...toPublicUser(user),
    createdAt: user.createdAt.toISOString(),
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
  };
}

function readClaims(value: Prisma.JsonValue): Claims {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Claims) : {};
}

// Claims values are small JSON: comparing serialisations is exact enough and cheap.
function isSubset(claims: Claims, stored: Claims): boolean {
  return Object.entries(claims).every(
    ([key, value]) => Object.hasOwn(stored, key) && JSON.stringify(stored[key]) === JSON.stringify(value),
  );
}
