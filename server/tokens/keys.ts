/*
 * Access-token signing key.
 *
 * - One ES256 (P-256) key pair per installation. It is generated on the first start and
 *   kept as a private JWK in <dataDir>/keys/jwt-es256.json: file 0600, folder 0700.
 * - The file is created with an exclusive link, so nodes that share a data dir and start
 *   together still end up with one key, and nobody ever reads a half-written file.
 * - `kid` is the RFC 7638 thumbprint of the public key: it changes exactly when the key
 *   does, so verifiers can cache the JWKS by kid.
 * - Key material never reaches a log or an error message; in memory the private key is a
 *   non-extractable CryptoKey.
 */
import type { KeyObject } from "node:crypto";
import path from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from "jose";
import type { CryptoKey, JWK } from "jose";
import { readOrCreateSecretJson } from "../secret-files";

export const SIGNING_ALG = "ES256";

export type PublicSigningJwk = {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
  kid: string;
  alg: typeof SIGNING_ALG;
};

export type SigningKey = {
  kid: string;
  alg: typeof SIGNING_ALG;
  privateKey: CryptoKey | KeyObject;
  /** Imported once: verification is on the hot path. */
  publicKey: CryptoKey | KeyObject;
  publicJwk: PublicSigningJwk;
};

export type Jwks = { keys: Array<PublicSigningJwk & { use: "sig" }> };

export const SIGNING_KEY_FILE = path.join("keys", "jwt-es256.json");

export async function loadOrCreateSigningKey(dataDir: string): Promise<SigningKey> {
  const { value } = await readOrCreateSecretJson(path.join(dataDir, SIGNING_KEY_FILE), "signing key", async () => ({
    ...(await generatePrivateJwk()),
    alg: SIGNING_ALG,
  }));
  return importSigningKey(value);
}

export function createJwks(keys: SigningKey[]): Jwks {
  return { keys: keys.map((key) => ({ ...key.publicJwk, use: "sig" as const })) };
}

async function generatePrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  return exportJWK(privateKey);
}

async function importSigningKey(stored: unknown): Promise<SigningKey> {
  if (!isPrivateP256Jwk(stored)) {
    throw new Error(`signing key file ${SIGNING_KEY_FILE} does not hold a private P-256 JWK`);
  }
  const { kty, crv, x, y, d } = stored;
  const kid = await calculateJwkThumbprint({ kty, crv, x, y }, "sha256");
  const publicJwk: PublicSigningJwk = { kty, crv, x, y, kid, alg: SIGNING_ALG };
  const privateKey = await importJWK({ kty, crv, x, y, d }, SIGNING_ALG, { extractable: false });
  const publicKey = await importJWK({ kty, crv, x, y }, SIGNING_ALG);
  if (privateKey instanceof Uint8Array || publicKey instanceof Uint8Array) {
    throw new Error("signing key imported as a symmetric secret");
  }
  return { kid, alg: SIGNING_ALG, privateKey, publicKey, publicJwk };
}

function isPrivateP256Jwk(value: unknown): value is { kty: "EC"; crv: "P-256"; x: string; y: string; d: string } {
  if (typeof value !== "object" || value === null) return false;
  const jwk = value as Record<string, unknown>;
  return (
    jwk.kty === "EC" &&
    jwk.crv === "P-256" &&
    typeof jwk.x === "string" &&
    typeof jwk.y === "string" &&
    typeof jwk.d === "string"
  );
}
