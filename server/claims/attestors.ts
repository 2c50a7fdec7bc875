/**
 * The attestors whose credentials the server trusts (docs/protocol.md section 4).
 *
 * - `TRUSTED_ATTESTORS` (config.ts): `{"<iss>": <public secp256k1 JWK>, ...}`.
 * - The development attestor: with `DEV_ATTESTOR` on (the default in development), the
 *   server creates a key on first start in `<DATA_DIR>/keys/dev-attestor.json` and trusts it
 *   as `urn:wallet-login:dev-attestor`. `npm run wallet -- attest` issues credentials with it,
 *   so the whole claims flow can be tried on one machine. It attests whatever it is asked
 *   to: never turn it on where claims must mean something.
 */
import path from "node:path";
import {
  generatePrivateJwk,
  publicKeyFromJwk,
  type Secp256k1PrivateJwk,
  type Secp256k1PublicJwk,
} from "../../lib/claims/es256k";
import { readOrCreateSecretJson, readSecretJson } from "../secret-files";

export const DEV_ATTESTOR_ISS = "urn:wallet-login:dev-attestor";
export const DEV_ATTESTOR_FILE = path.join("keys", "dev-attestor.json");

export interface DevAttestor {
  iss: string;
  jwk: Secp256k1PrivateJwk;
}

/** The public half of a private JWK. */
export function publicPartOf(jwk: Secp256k1PrivateJwk): Secp256k1PublicJwk {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

function toDevAttestor(stored: unknown, file: string): DevAttestor {
  const jwk = (stored as { jwk?: Secp256k1PrivateJwk } | null)?.jwk;
  if (!publicKeyFromJwk(jwk) || typeof jwk?.d !== "string") {
    throw new Error(`dev attestor file ${file} does not hold a secp256k1 private JWK; delete it to get a new one`);
  }
  return { iss: DEV_ATTESTOR_ISS, jwk };
}

/** The development attestor in `dataDir`, or undefined when none was created yet (the wallet CLI reads it). */
export async function readDevAttestor(dataDir: string): Promise<DevAttestor | undefined> {
  const file = path.join(dataDir, DEV_ATTESTOR_FILE);
  const stored = await readSecretJson(file, "dev attestor");
  return stored === undefined ? undefined : toDevAttestor(stored, file);
}

/** The development attestor in `dataDir`, created on first use (several nodes agree on one). */
export async function loadOrCreateDevAttestor(dataDir: string): Promise<DevAttestor> {
  const file = path.join(dataDir, DEV_ATTESTOR_FILE);
  const { value } = await readOrCreateSecretJson(file, "dev attestor", () => ({
    iss: DEV_ATTESTOR_ISS,
    jwk: generatePrivateJwk(),
  }));
  return toDevAttestor(value, file);
}

/** Issuer -> public JWK for the presentation verifier: the configured ones plus the dev attestor if on. */
export async function loadTrustedAttestors(options: {
  dataDir: string;
  configured: ReadonlyMap<string, Secp256k1PublicJwk>;
  devAttestor: boolean;
}): Promise<Map<string, Secp256k1PublicJwk>> {
  const trusted = new Map(options.configured);
  if (options.devAttestor) {
    const dev = await loadOrCreateDevAttestor(options.dataDir);
    trusted.set(dev.iss, publicPartOf(dev.jwk));
  }
  return trusted;
}
