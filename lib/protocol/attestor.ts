/**
 * The demo attestor (docs/protocol.md section 6): wire types, zod schemas and limits, shared by
 * the server (server/attestor/), the wallet (lib/wallet/attestor-client.ts) and the pages.
 *
 * A wallet proves its key with a compact JWS (ES256K, `jwk` in the header: its secp256k1 key, the
 * credential's future `cnf`), once over a single-use challenge to ask for claims and once over its
 * socket id to subscribe to its own channel, `private-wallet-<RFC 7638 thumbprint of that key>`.
 * The credential reaches that channel as a JWE (ECDH-ES, A256GCM) to the P-256 key named in the request.
 */
import { z } from "zod";

export const ATTESTOR_API_PATHS = {
  metadata: "/api/attestor",
  challenges: "/api/attestor/challenges",
  channelAuth: "/api/attestor/channel-auth",
  requests: "/api/attestor/requests",
  adminRequests: "/api/attestor/admin/requests",
  adminAttestors: "/api/attestor/admin/attestors",
} as const;

/** The issuer identifier (`iss`) of the demo attestor: its public page. */
export const attestorIssuer = (publicUrl: string) => `${publicUrl}/attestor`;

/** A wallet's own channel; only an attestor channel-auth signs it (server/channels/policy.ts refuses users). */
export const WALLET_CHANNEL_PREFIX = "private-wallet-";
export const walletChannel = (thumbprint: string) => `${WALLET_CHANNEL_PREFIX}${thumbprint}`;

/** Channel events on a wallet's channel. */
export const WALLET_CHANNEL_EVENTS = {
  credential: "credential",
  refused: "credential_refused",
} as const;

export const PROOF_TYPES = { request: "wallet-request+jwt", channel: "wallet-channel+jwt" } as const;
/** A proof's `iat` may be this far from the server's clock. */
export const PROOF_MAX_AGE_SECONDS = 300;
export const ATTESTOR_CHALLENGE_TTL_MS = 300_000;
export const MAX_PROOF_LENGTH = 4096;
/** How long an admin has to decide a pending request before it is gone from the list. */
export const PENDING_REQUEST_TTL_DAYS = 7;

/** How the demo attestor decides each claim it offers. */
export const OFFERED_CLAIMS = {
  /** The date (YYYY-MM-DD) the wallet's address first signed in here; granted at once to a known address. */
  member_since: { grant: "immediate" },
  /** The email the person typed in (`email`), granted once an admin approves it. */
  verified_email: { grant: "approval", input: "email" },
} as const satisfies Record<string, { grant: "immediate" | "approval"; input?: string }>;
export type OfferedClaim = keyof typeof OFFERED_CLAIMS;

export const requestStatusSchema = z.enum(["pending", "issued", "refused"]);
export type CredentialRequestStatus = z.infer<typeof requestStatusSchema>;

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/);
export const requestIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const p256PublicJwkSchema = z.strictObject({
  kty: z.literal("EC"),
  crv: z.literal("P-256"),
  x: base64url.length(43),
  y: base64url.length(43),
});
export type DeliveryPublicJwk = z.infer<typeof p256PublicJwkSchema>;

export const proofBodySchema = z.strictObject({ proof: z.string().min(1).max(MAX_PROOF_LENGTH) });
export const channelAuthBodySchema = z.strictObject({
  socket_id: z.string().min(1).max(64),
  channel_name: z.string().min(1).max(164),
  proof: z.string().min(1).max(MAX_PROOF_LENGTH),
});

/** The payload of a request proof (`typ` wallet-request+jwt). */
export const requestProofPayloadSchema = z.strictObject({
  aud: z.string().max(512),
  iat: z.number().int(),
  nonce: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
  claims: z
    .array(z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/))
    .min(1)
    .max(8),
  email: z.email().max(254).optional(),
  /** The P-256 public key the credential is encrypted to. */
  delivery_jwk: p256PublicJwkSchema,
});
export type RequestProofPayload = z.infer<typeof requestProofPayloadSchema>;

/** The payload of a channel proof (`typ` wallet-channel+jwt). */
export const channelProofPayloadSchema = z.strictObject({
  aud: z.string().max(512),
  iat: z.number().int(),
  socket_id: z.string().max(64),
  channel: z.string().max(164),
});
export type ChannelProofPayload = z.infer<typeof channelProofPayloadSchema>;

export interface AttestorMetadata {
  iss: string;
  name: string;
  /** The public secp256k1 JWK credentials are signed with. */
  jwk: { kty: "EC"; crv: "secp256k1"; x: string; y: string };
  claims: Array<{ name: string; grant: "immediate" | "approval"; input?: string }>;
}

export interface ChallengeResponse {
  nonce: string;
  expiresAt: string;
}

export interface CredentialRequestView {
  id: string;
  status: CredentialRequestStatus;
  claims: string[];
  /** The wallet's channel, where the credential arrives. */
  channel: string;
  createdAt: string;
}

export interface AdminRequestView extends CredentialRequestView {
  address: string;
  email: string | null;
  decidedAt: string | null;
  decidedBy: string | null;
  /** The issued credential's status-list state; null before issuance (or without a status entry). */
  credentialStatus: "valid" | "revoked" | "suspended" | null;
}

/** An attestor record's id in an admin route: 24 lowercase hex characters (server/claims/attestor-records.ts). */
export const attestorIdSchema = z.string().regex(/^[a-f0-9]{24}$/);

/** What the admin routes do to an attestor record. */
export const ATTESTOR_RECORD_ACTIONS = ["trust", "distrust", "rotate-key"] as const;
export type AttestorRecordAction = (typeof ATTESTOR_RECORD_ACTIONS)[number];

/** An attestor record as an admin sees it (GET /api/attestor/admin/attestors); no private key ever. */
export interface AdminAttestorView {
  id: string;
  name: string;
  issuer: string;
  kid: string;
  publicJwk: { kty: "EC"; crv: "secp256k1"; x: string; y: string };
  trusted: boolean;
  /** Its private key is kept here (DATA_DIR), so its key can be rotated here; else an outside attestor. */
  hosted: boolean;
  previousKids: string[];
  createdAt: string;
  keyRotatedAt: string | null;
}

/** `data` of a `credential` event on the wallet's channel. */
export interface CredentialDelivery {
  requestId: string;
  /** JWE compact serialisation; its plaintext is the SD-JWT VC. */
  jwe: string;
}

/** `data` of a `credential_refused` event. */
export interface CredentialRefusal {
  requestId: string;
}

export const credentialDeliverySchema = z.strictObject({
  requestId: requestIdSchema,
  jwe: z.string().min(1).max(64_000),
});
export const credentialRefusalSchema = z.strictObject({ requestId: requestIdSchema });
