/**
 * The demo attestor's signing key (docs/protocol.md section 6): DEMO_ATTESTOR_KEY when set, else a
 * key made on first start in `<DATA_DIR>/keys/demo-attestor.json` (0600; several nodes agree on
 * one, server/secret-files.ts). The private half is never logged nor sent: only its public JWK is.
 */
import path from "node:path";
import { generatePrivateJwk, privateKeyHexOf, publicJwkOf, type Secp256k1PublicJwk } from "../../lib/claims/es256k";
import { attestorIssuer } from "../../lib/protocol/attestor";
import { readOrCreateSecretJson } from "../secret-files";

export const DEMO_ATTESTOR_FILE = path.join("keys", "demo-attestor.json");
export const DEMO_ATTESTOR_NAME = "Wallet Login demo attestor";

export interface AttestorKey {
  iss: string;
  /** 0x-prefixed hex; kept in the AttestorService only. */
  privateKeyHex: string;
  publicJwk: Secp256k1PublicJwk;
}

export async function loadDemoAttestorKey(options: {
  dataDir: string;
  publicUrl: string;
  privateKeyHex?: string;
}): Promise<AttestorKey> {
  let privateKeyHex = options.privateKeyHex;
  if (privateKeyHex === undefined) {
    const file = path.join(options.dataDir, DEMO_ATTESTOR_FILE);
    const { value } = await readOrCreateSecretJson(file, "demo attestor", () => ({ jwk: generatePrivateJwk() }));
    try {
      privateKeyHex = privateKeyHexOf((value as { jwk: Parameters<typeof privateKeyHexOf>[0] }).jwk);
      publicJwkOf(privateKeyHex);
    } catch {
      throw new Error(`demo attestor file ${file} does not hold a secp256k1 private JWK; delete it to get a new one`);
    }
  }
  return { iss: attestorIssuer(options.publicUrl), privateKeyHex, publicJwk: publicJwkOf(privateKeyHex) };
}
