/**
 * The demo attestor (docs/protocol.md section 6): it checks who asks, decides each claim, issues an
 * SD-JWT VC to the wallet's key and pushes it, encrypted, to the wallet's own channel.
 *
 * Rules:
 * - A request is proven by a JWS (ES256K) of the wallet's key over a single-use challenge nonce
 *   (taken atomically from the key-value store only after the signature holds, so nobody can burn
 *   another wallet's nonce); the proof's `aud` is this attestor's `iss` and its `iat` within
 *   PROOF_MAX_AGE_SECONDS. The proven key becomes the credential's `cnf.jwk`. A challenge issued
 *   before the stores' epoch (Redis came back empty or from an older snapshot, which may hold a
 *   challenge that was used since) is refused like a used one.
 * - Outages: a decision (approve, refuse) first checks that the stores answer, since the wallet
 *   hears of it through Redis; the routes answer `unavailable` (docs/protocol.md section 6.7).
 * - Claims: member_since is granted at once to an address that has an account here; verified_email
 *   (the `email` typed in) waits for an admin; any other name refuses the whole request
 *   (`claim_refused`), so a wallet never gets less than it asked for without knowing.
 * - Every claim is selectively disclosable (lib/claims/credentials.ts); the credential carries a
 *   status-list reference when a status allocator is given.
 * - The credential exists in memory only while it is encrypted (JWE, ECDH-ES/A256GCM, to the
 *   P-256 key the wallet named in its signed request) and emitted on `private-wallet-<thumbprint>`,
 *   which only a socket that proved the same key can join. Logs name the request, the address and
 *   the claim names, never a value, a credential or a key.
 * - Deciding a pending request is one compare-and-set in the database (pending -> issued or
 *   refused), so two admins, or two nodes, cannot issue it twice.
 */
import { DEFAULT_VCT, issueCredential } from "../../lib/claims/credentials";
import { encryptCredential } from "../../lib/claims/delivery";
import { addressOfJwk } from "../../lib/claims/es256k";
import { thumbprintOf, verifyWalletProof } from "../../lib/claims/wallet-proof";
import {
  ATTESTOR_CHALLENGE_TTL_MS,
  OFFERED_CLAIMS,
  PENDING_REQUEST_TTL_DAYS,
  PROOF_MAX_AGE_SECONDS,
  PROOF_TYPES,
  WALLET_CHANNEL_EVENTS,
  channelProofPayloadSchema,
  requestProofPayloadSchema,
  walletChannel,
  type AdminRequestView,
  type AttestorMetadata,
  type ChallengeResponse,
  type CredentialDelivery,
  type CredentialRefusal,
  type CredentialRequestView,
  type OfferedClaim,
} from "../../lib/protocol/attestor";
import { SOCKET_ID_PATTERN } from "../../lib/protocol/channels";
import type { ErrorCode } from "../../lib/protocol/errors";
import type { AppContext } from "../context";
import { signChannelAuth } from "../channels/signing";
import { randomBase64url } from "../crypto/random";
import { emitChannelEvent } from "../realtime/emit";
import { createRequestStore, toAdminView, type CredentialRequestRecord } from "./credential-requests";
import { DEMO_ATTESTOR_NAME, type AttestorKey } from "./demo-attestor";

/** A Token Status List entry for one credential (docs/protocol.md section 4.1), and its IssuedCredential id. */
export interface StatusReference {
  credentialId: string;
  status: { status_list: { idx: number; uri: string } };
}

/** Allocates a status-list index for a credential about to be issued. */
export type AllocateStatus = (input: {
  attestorId: string;
  address: string;
  vct: string;
  expiresAt: Date;
}) => Promise<StatusReference>;

/** Sets an issued credential's status-list state (revocation). */
export type SetCredentialStatus = (credentialId: string, status: "valid" | "revoked" | "suspended") => Promise<void>;

export const CREDENTIAL_TTL_SECONDS = 365 * 86_400;
/** Pending requests one address may have waiting at once. */
export const MAX_PENDING_PER_ADDRESS = 5;
export const ADMIN_LIST_LIMIT = 100;

const challengeKey = (nonce: string) => `attestor-challenge:${nonce}`;

type Failure = { ok: false; code: ErrorCode; message?: string };
const fail = (code: ErrorCode, message?: string): Failure => ({ ok: false, code, ...(message ? { message } : {}) });

export interface AttestorServiceDeps extends Pick<AppContext, "db" | "stores" | "io" | "channelCredentials" | "log"> {
  /** The attestor's `iss`. */
  iss: string;
  /** Its current signing key, read for each credential. */
  readKey: () => Promise<AttestorKey>;
  allocateStatus?: AllocateStatus;
  setCredentialStatus?: SetCredentialStatus;
  now?: () => number;
}

export function createAttestorService(deps: AttestorServiceDeps) {
  const { iss, log } = deps;
  const now = deps.now ?? Date.now;
  const requests = createRequestStore(deps.db, thumbprintOf);

  const toView = (r: CredentialRequestRecord): CredentialRequestView => ({
    id: r.id,
    status: r.status,
    claims: r.claims,
    channel: r.channel,
    createdAt: r.createdAt.toISOString(),
  });

  const isFresh = (iat: number) => Math.abs(iat - Math.floor(now() / 1000)) <= PROOF_MAX_AGE_SECONDS;
  const pendingSince = () => new Date(now() - PENDING_REQUEST_TTL_DAYS * 86_400_000);

  /** The claims' values for this address at this moment; a refusal names the claim. */
  async function claimValues(
    record: Pick<CredentialRequestRecord, "address" | "claims" | "email">,
  ): Promise<{ ok: true; claims: Record<string, unknown> } | Failure> {
    const values: Record<string, unknown> = {};
    for (const name of record.claims) {
      if (name === "member_since") {
        const user = await deps.db.user.findUnique({ where: { address: record.address } });
        if (!user) return fail("claim_refused", "member_since: this address has never signed in here.");
        values.member_since = user.createdAt.toISOString().slice(0, 10);
      } else if (name === "verified_email") {
        values.verified_email = record.email;
      }
    }
    return { ok: true, claims: values };
  }

  /** Issues, encrypts and pushes the credential of a request now decided `issued`. */
  async function deliver(record: CredentialRequestRecord, claims: Record<string, unknown>): Promise<string | null> {
    const issuedAt = Math.floor(now() / 1000);
    const key = await deps.readKey();
    const allocated = deps.allocateStatus
      ? await deps.allocateStatus({
          attestorId: key.attestorId,
          address: record.address,
          vct: DEFAULT_VCT,
          expiresAt: new Date((issuedAt + CREDENTIAL_TTL_SECONDS) * 1000),
        })
      : undefined;
    if (allocated) await requests.setCredentialId(record.id, allocated.credentialId);
    const credential = await issueCredential({
      issuer: { iss: key.iss, privateKeyHex: key.privateKeyHex },
      holderJwk: record.holderJwk,
      claims,
      issuedAt,
      expiresInSeconds: CREDENTIAL_TTL_SECONDS,
      vct: DEFAULT_VCT,
      ...(allocated ? { status: allocated.status } : {}),
    });
    const delivery: CredentialDelivery = {
      requestId: record.id,
      jwe: await encryptCredential(credential, record.deliveryJwk),
    };
    emitChannelEvent(deps.io, {
      channels: [record.channel],
      name: WALLET_CHANNEL_EVENTS.credential,
      data: JSON.stringify(delivery),
    });
    log.info(
      { event: "credential_issued", requestId: record.id, address: record.address, claims: record.claims },
      "credential issued and delivered",
    );
    return allocated?.credentialId ?? null;
  }

  return {
    iss,

    async readMetadata(): Promise<AttestorMetadata> {
      const key = await deps.readKey();
      return {
        iss,
        name: DEMO_ATTESTOR_NAME,
        jwk: key.publicJwk,
        claims: Object.entries(OFFERED_CLAIMS).map(([name, offer]) => ({ name, ...offer })),
      };
    },

    async createChallenge(): Promise<ChallengeResponse> {
      const nonce = randomBase64url(16);
      const expiresAt = now() + ATTESTOR_CHALLENGE_TTL_MS;
      // Its issue time: a challenge from before the stores' epoch may have been used already.
      await deps.stores.keyValues.put(challengeKey(nonce), String(now()), expiresAt);
      return { nonce, expiresAt: new Date(expiresAt).toISOString() };
    },

    /** The channel auth for a socket that proved the key whose channel it asks for. */
    async authorizeChannel(input: {
      socketId: string;
      channel: string;
      proof: string;
    }): Promise<{ ok: true; auth: string } | Failure> {
      if (!SOCKET_ID_PATTERN.test(input.socketId)) return fail("invalid_socket_id");
      const proven = verifyWalletProof(input.proof, PROOF_TYPES.channel);
      if (!proven.ok) return fail("invalid_signature");
      const payload = channelProofPayloadSchema.safeParse(proven.payload);
      if (!payload.success || payload.data.aud !== iss || !isFresh(payload.data.iat)) {
        return fail("invalid_request", "The proof's aud, iat or fields are wrong.");
      }
      if (payload.data.socket_id !== input.socketId || payload.data.channel !== input.channel) {
        return fail("invalid_request", "The proof is for another socket or channel.");
      }
      if (input.channel !== walletChannel(await thumbprintOf(proven.jwk))) return fail("forbidden");
      return { ok: true, auth: signChannelAuth(deps.channelCredentials, input.socketId, input.channel) };
    },

    /** A wallet's signed request: issued at once, pending an admin, or refused. */
    async submitRequest(proof: string): Promise<{ ok: true; request: CredentialRequestView } | Failure> {
      const proven = verifyWalletProof(proof, PROOF_TYPES.request);
      if (!proven.ok) return fail("invalid_signature");
      const parsed = requestProofPayloadSchema.safeParse(proven.payload);
      if (!parsed.success || parsed.data.aud !== iss || !isFresh(parsed.data.iat)) {
        return fail("invalid_request", "The proof's aud, iat or fields are wrong.");
      }
      const payload = parsed.data;
      const issuedAt = await deps.stores.keyValues.take(challengeKey(payload.nonce));
      if (issuedAt === null || !(Number(issuedAt) >= (await deps.stores.readEpoch()))) {
        return fail("challenge_not_found");
      }

      const claims = [...new Set(payload.claims)];
      const unknown = claims.filter((name) => !Object.hasOwn(OFFERED_CLAIMS, name));
      if (unknown.length > 0) return fail("claim_refused", `This attestor does not issue ${unknown.join(", ")}.`);
      const needsApproval = claims.some((name) => OFFERED_CLAIMS[name as OfferedClaim].grant === "approval");
      if (claims.includes("verified_email") !== (payload.email !== undefined)) {
        return fail("invalid_request", "email is given with verified_email, and only then.");
      }
      const address = addressOfJwk(proven.jwk)!;
      const decided = { address, claims, email: payload.email ?? null };
      // Checked now too, so a request bound to be refused never waits for an admin.
      const values = await claimValues(decided);
      if (!values.ok) return values;
      if (needsApproval) {
        const waiting = await deps.db.credentialRequest.count({
          where: { address, status: "pending", createdAt: { gte: pendingSince() } },
        });
        if (waiting >= MAX_PENDING_PER_ADDRESS) return fail("rate_limited");
      }
      const record = await requests.create({
        address,
        holderJwk: proven.jwk,
        deliveryJwk: payload.delivery_jwk,
        claims,
        ...(payload.email === undefined ? {} : { email: payload.email }),
        status: needsApproval ? "pending" : "issued",
      });
      if (needsApproval) {
        log.info(
          { event: "credential_requested", requestId: record.id, address, claims },
          "credential awaits approval",
        );
      } else {
        await deliver(record, values.claims);
      }
      return { ok: true, request: toView(record) };
    },

    async listRequests(): Promise<AdminRequestView[]> {
      const list = await requests.list(ADMIN_LIST_LIMIT);
      const statuses = await requests.credentialStatuses(list.flatMap((r) => (r.credentialId ? [r.credentialId] : [])));
      return list.map((r) => toAdminView(r, r.credentialId ? (statuses.get(r.credentialId) ?? null) : null));
    },

    /** An admin revokes the credential issued for a request: its status-list bit flips (section 4.1). */
    async revoke(id: string, adminAddress: string): Promise<{ ok: true; request: AdminRequestView } | Failure> {
      const record = await requests.find(id);
      if (!record) return fail("not_found");
      if (!record.credentialId || !deps.setCredentialStatus)
        return fail("not_found", "No credential with a status entry was issued for this request.");
      await deps.setCredentialStatus(record.credentialId, "revoked");
      log.info({ event: "credential_revoked", requestId: id, by: adminAddress }, "credential revoked");
      return { ok: true, request: toAdminView(record, "revoked") };
    },

    /** An admin's decision on a pending request; `request_decided` when it is not pending any more. */
    async decide(
      id: string,
      decision: "approve" | "refuse",
      adminAddress: string,
    ): Promise<{ ok: true; request: AdminRequestView } | Failure> {
      const existing = await requests.find(id);
      if (!existing) return fail("not_found");
      if (existing.status !== "pending") return fail("request_decided");
      // The decision reaches the wallet through Redis (the Socket.IO adapter), which drops what it
      // cannot send: without Redis, a request decided now would be issued and never delivered.
      await deps.stores.ping();
      let values: Record<string, unknown> = {};
      if (decision === "approve") {
        const checked = await claimValues(existing);
        if (!checked.ok) return checked;
        values = checked.claims;
      }
      const record = await requests.decide(
        id,
        decision === "approve" ? "issued" : "refused",
        adminAddress,
        pendingSince(),
      );
      if (!record) return fail("request_decided");
      let credentialId: string | null = null;
      if (decision === "approve") {
        credentialId = await deliver(record, values);
      } else {
        const refusal: CredentialRefusal = { requestId: record.id };
        emitChannelEvent(deps.io, {
          channels: [record.channel],
          name: WALLET_CHANNEL_EVENTS.refused,
          data: JSON.stringify(refusal),
        });
        log.info({ event: "credential_refused", requestId: record.id, by: adminAddress }, "credential request refused");
      }
      return { ok: true, request: toAdminView({ ...record, credentialId }, credentialId ? "valid" : null) };
    },
  };
}

export type AttestorService = ReturnType<typeof createAttestorService>;
