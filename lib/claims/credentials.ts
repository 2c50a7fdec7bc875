/**
 * SD-JWT VCs (ES256K) for verifiable claims (docs/protocol.md section 4), on @sd-jwt/sd-jwt-vc:
 * an attestor issues one to a wallet's key, the wallet presents the claims a login asks for
 * with a key-binding JWT. The server's checks are in server/claims/.
 *
 * Rules:
 * - The holder key (`cnf.jwk`) is the wallet's secp256k1 key, the one that signs its EIP-4361
 *   messages, so the server can tie the presentation to the signer's address.
 * - Every claim given to issueCredential is selectively disclosable, and so is every member
 *   and array element inside one (claim-paths.ts); presentCredential discloses exactly the
 *   paths it is given (`email`, `address.country`, `nationalities.0`), what leads to them and
 *   all under them, and nothing else.
 * - The key-binding JWT carries the session nonce and `aud` = the session's `uri`.
 * - Browser-safe (hashing and signing through @noble): the wallet page uses it too.
 */
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { sha256 } from "@noble/hashes/sha2.js";
import { disclosureFrameFor, presentationFrameFor } from "./claim-paths";
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
    // Every claim, and every member and array element inside one, selectively disclosable.
    (disclosureFrameFor(input.claims) ?? {}) as never,
  );
}

export interface PresentCredentialInput {
  credential: string;
  /** Claim paths to disclose (a login's `requiredClaims`; claim-paths.ts), each with all under it. */
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
  const frame = presentationFrameFor(await sdjwt.presentableKeys(input.credential), input.disclose);
  return sdjwt.present(input.credential, frame as never, {
    kb: { payload: { iat: input.issuedAt ?? Math.floor(Date.now() / 1000), aud: input.aud, nonce: input.nonce } },
  });
}

/** The claim paths a credential can disclose (`address`, `address.country`, `nationalities.0`, ...). */
export async function credentialClaimNames(credential: string): Promise<string[]> {
  return new SDJwtVcInstance({ hasher: sdJwtHasher }).presentableKeys(credential);
}
