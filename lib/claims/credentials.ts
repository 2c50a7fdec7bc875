/**
 * SD-JWT VCs (ES256K) for verifiable claims (docs/protocol.md section 4), on @sd-jwt/sd-jwt-vc:
 * an attestor issues one to a wallet's key, the wallet presents the claims a login asks for
 * with a key-binding JWT. The server's checks are in server/claims/.
 *
 * Rules:
 * - The holder key (`cnf.jwk`) is the wallet's secp256k1 key, the one that signs its EIP-4361
 *   messages, so the server can tie the presentation to the signer's address.
 * - Every claim given to issueCredential is selectively disclosable; presentCredential
 *   discloses exactly the names it is given (top-level claims) and no others.
 * - The key-binding JWT carries the session nonce and `aud` = the session's `uri`.
 * - Browser-safe (hashing and signing through @noble): the wallet page uses it too.
 */
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { sha256 } from "@noble/hashes/sha2.js";
import { ES256K, base64urlEncode, signEs256k, type Secp256k1PublicJwk } from "./es256k";

/** The credential type (`vct`) this app's attestors issue by default. */
export const DEFAULT_VCT = "urn:wallet-login:claims:1";

/** SD-JWT's sha-256 hasher (the only `_sd_alg` used and accepted here). */
export function sdJwtHasher(data: string | ArrayBuffer, alg: string): Uint8Array {
  if (alg.toLowerCase() !== "sha-256") throw new Error(`unsupported _sd_alg ${alg}`);
  return sha256(typeof data === "string" ? new TextEncoder().encode(data) : new Uint8Array(data));
}

function randomSalt(length: number): string {
  return base64urlEncode(crypto.getRandomValues(new Uint8Array(length)));
}

export interface IssueCredentialInput {
  /** The attestor's identifier (`iss`) and its private key as hex. */
  issuer: { iss: string; privateKeyHex: string };
  /** The wallet's public key; its address is the one that will sign the login. */
  holderJwk: Secp256k1PublicJwk;
  claims: Record<string, unknown>;
  vct?: string;
  /** Lifetime from now; default 1 year. */
  expiresInSeconds?: number;
  /** Epoch seconds; default now. */
  issuedAt?: number;
  /** A Token Status List reference (`status.status_list`), never selectively disclosable. */
  status?: { status_list: { idx: number; uri: string } };
}

/** An SD-JWT VC (`<jwt>~<disclosure>~...~`) with every claim selectively disclosable. */
export async function issueCredential(input: IssueCredentialInput): Promise<string> {
  const iat = input.issuedAt ?? Math.floor(Date.now() / 1000);
  const sdjwt = new SDJwtVcInstance({
    hasher: sdJwtHasher,
    hashAlg: "sha-256",
    saltGenerator: randomSalt,
    signer: (data) => signEs256k(input.issuer.privateKeyHex, data),
    signAlg: ES256K,
  });
  const claimNames = Object.keys(input.claims);
  return sdjwt.issue(
    {
      iss: input.issuer.iss,
      vct: input.vct ?? DEFAULT_VCT,
      iat,
      exp: iat + (input.expiresInSeconds ?? 365 * 86_400),
      cnf: { jwk: input.holderJwk },
      ...input.claims,
      ...(input.status ? { status: input.status } : {}),
    },
    { _sd: claimNames } as never,
  );
}

export interface PresentCredentialInput {
  credential: string;
  /** Top-level claim names to disclose (a login's `requiredClaims`). */
  disclose: string[];
  /** The login request's `nonce` and `uri`. */
  nonce: string;
  aud: string;
  /** The wallet's private key (hex), the holder key of the credential. */
  privateKeyHex: string;
  /** Epoch seconds for the key-binding JWT's `iat`; default now. */
  issuedAt?: number;
}

/** The presentation to send as `presentation` in `POST /api/auth`. */
export async function presentCredential(input: PresentCredentialInput): Promise<string> {
  const sdjwt = new SDJwtVcInstance({
    hasher: sdJwtHasher,
    hashAlg: "sha-256",
    kbSigner: (data) => signEs256k(input.privateKeyHex, data),
    kbSignAlg: ES256K,
  });
  const frame = Object.fromEntries(input.disclose.map((name) => [name, true]));
  return sdjwt.present(input.credential, frame as never, {
    kb: { payload: { iat: input.issuedAt ?? Math.floor(Date.now() / 1000), aud: input.aud, nonce: input.nonce } },
  });
}

/** The claim names a credential can disclose. */
export async function credentialClaimNames(credential: string): Promise<string[]> {
  return new SDJwtVcInstance({ hasher: sdJwtHasher }).presentableKeys(credential);
}
