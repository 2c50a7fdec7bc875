/** The demo attestor's credential requests in the database (docs/protocol.md section 6). */
import type { AdminRequestView, CredentialRequestStatus, DeliveryPublicJwk } from "../../lib/protocol/attestor";
import { walletChannel } from "../../lib/protocol/attestor";
import type { Secp256k1PublicJwk } from "../../lib/claims/es256k";
import type { Db } from "../db/client";

export interface CredentialRequestRecord {
  id: string;
  address: string;
  holderJwk: Secp256k1PublicJwk;
  deliveryJwk: DeliveryPublicJwk;
  claims: string[];
  email: string | null;
  status: CredentialRequestStatus;
  createdAt: Date;
  decidedAt: Date | null;
  decidedBy: string | null;
  credentialId: string | null;
  /** The wallet's channel (from the holder key's thumbprint, kept beside the row for the views). */
  channel: string;
}

type Row = Awaited<ReturnType<Db["credentialRequest"]["create"]>>;

function toRecord(row: Row, thumbprint: string): CredentialRequestRecord {
  return {
    id: row.id,
    address: row.address,
    holderJwk: row.holderJwk as unknown as Secp256k1PublicJwk,
    deliveryJwk: row.deliveryJwk as unknown as DeliveryPublicJwk,
    claims: row.claims as unknown as string[],
    email: row.email,
    status: row.status as CredentialRequestStatus,
    createdAt: row.createdAt,
    decidedAt: row.decidedAt,
    decidedBy: row.decidedBy,
    credentialId: row.credentialId,
    channel: walletChannel(thumbprint),
  };
}

export function toAdminView(
  r: CredentialRequestRecord,
  credentialStatus: AdminRequestView["credentialStatus"] = null,
): AdminRequestView {
  return {
    id: r.id,
    status: r.status,
    claims: r.claims,
    channel: r.channel,
    createdAt: r.createdAt.toISOString(),
    address: r.address,
    email: r.email,
    decidedAt: r.decidedAt?.toISOString() ?? null,
    decidedBy: r.decidedBy,
    credentialStatus,
  };
}

export interface NewCredentialRequest {
  address: string;
  holderJwk: Secp256k1PublicJwk;
  deliveryJwk: DeliveryPublicJwk;
  claims: string[];
  email?: string;
  status: CredentialRequestStatus;
}

export function createRequestStore(db: Db, thumbprintOf: (jwk: Secp256k1PublicJwk) => Promise<string>) {
  const load = async (row: Row | null) =>
    row ? toRecord(row, await thumbprintOf(row.holderJwk as unknown as Secp256k1PublicJwk)) : null;
  return {
    async create(input: NewCredentialRequest): Promise<CredentialRequestRecord> {
      const row = await db.credentialRequest.create({
        data: {
          address: input.address,
          holderJwk: { ...input.holderJwk },
          deliveryJwk: { ...input.deliveryJwk },
          claims: input.claims,
          email: input.email ?? null,
          status: input.status,
          ...(input.status === "pending" ? {} : { decidedAt: new Date() }),
        },
      });
      return (await load(row))!;
    },

    async find(id: string): Promise<CredentialRequestRecord | null> {
      return load(await db.credentialRequest.findUnique({ where: { id } }));
    },

    /** Pending first (oldest first), then the latest decided ones. */
    async list(limit: number): Promise<CredentialRequestRecord[]> {
      const pending = await db.credentialRequest.findMany({
        where: { status: "pending" },
        orderBy: { createdAt: "asc" },
        take: limit,
      });
      const decided = await db.credentialRequest.findMany({
        where: { status: { not: "pending" } },
        orderBy: { createdAt: "desc" },
        take: limit,
      });
      const records = await Promise.all([...pending, ...decided].map(load));
      return records.filter((r): r is CredentialRequestRecord => r !== null);
    },

    /** Names the IssuedCredential (status-list slot) of the request's credential. */
    async setCredentialId(id: string, credentialId: string): Promise<void> {
      await db.credentialRequest.update({ where: { id }, data: { credentialId } });
    },

    /** credentialId -> its status ("valid", "revoked", "suspended"). */
    async credentialStatuses(ids: string[]): Promise<Map<string, AdminRequestView["credentialStatus"]>> {
      if (ids.length === 0) return new Map();
      const rows = await db.issuedCredential.findMany({
        where: { id: { in: ids } },
        select: { id: true, status: true },
      });
      return new Map(rows.map((row) => [row.id, row.status as AdminRequestView["credentialStatus"]]));
    },

    /** pending -> `status`, in one compare-and-set; null when it was not pending (decided already, or unknown). */
    async decide(
      id: string,
      status: "issued" | "refused",
      by: string,
      notBefore: Date,
    ): Promise<CredentialRequestRecord | null> {
      const updated = await db.credentialRequest.updateMany({
        where: { id, status: "pending", createdAt: { gte: notBefore } },
        data: { status, decidedAt: new Date(), decidedBy: by },
      });
      if (updated.count !== 1) return null;
      return this.find(id);
    },
  };
}

export type RequestStore = ReturnType<typeof createRequestStore>;
