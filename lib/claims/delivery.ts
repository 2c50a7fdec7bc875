/**
 * Credentials encrypted to the wallet (docs/protocol.md section 6.3): JWE compact serialisation,
 * `alg` ECDH-ES (direct key agreement, a fresh ephemeral key per message), `enc` A256GCM, to a
 * P-256 key the wallet made for receiving and never sends anywhere.
 *
 * Rules:
 * - P-256 rather than X25519: WebCrypto has P-256 ECDH in every browser, so the simulator keeps its
 *   private key as a non-extractable CryptoKey (page script cannot read it out); X25519 in WebCrypto is newer.
 * - ECDH-ES direct rather than +A256KW: one recipient, so wrapping a random content key adds a step
 *   and no protection; it is also what OpenID4VCI's encrypted credential responses use.
 * - The protected header names the content (`cty` dc+sd-jwt) and nothing about the holder.
 * - Browser-safe: jose on WebCrypto.
 */
import { CompactEncrypt, compactDecrypt, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from "jose";
import type { DeliveryPublicJwk } from "../protocol/attestor";

export const DELIVERY_ALG = "ECDH-ES";
export const DELIVERY_ENC = "A256GCM";
export const DELIVERY_CTY = "dc+sd-jwt";

export interface DeliveryKeyPair {
  publicJwk: DeliveryPublicJwk;
  privateKey: CryptoKey;
}

function toPublicJwk(jwk: JWK): DeliveryPublicJwk {
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || typeof jwk.x !== "string" || typeof jwk.y !== "string") {
    throw new Error("not a P-256 public key");
  }
  return { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
}

/** A new P-256 key pair for receiving credentials; `extractable` only where it is kept in a file (the CLI). */
export async function generateDeliveryKey(options: { extractable?: boolean } = {}): Promise<DeliveryKeyPair> {
  const { publicKey, privateKey } = await generateKeyPair(DELIVERY_ALG, {
    crv: "P-256",
    extractable: options.extractable ?? false,
  });
  return { publicJwk: toPublicJwk(await exportJWK(publicKey)), privateKey };
}

/** The private JWK of an extractable delivery key (the CLI keeps it in a 0600 file). */
export async function exportDeliveryKey(key: DeliveryKeyPair): Promise<JWK> {
  return { ...(await exportJWK(key.privateKey)), ...key.publicJwk };
}

export async function importDeliveryKey(privateJwk: JWK): Promise<DeliveryKeyPair> {
  const privateKey = (await importJWK({ ...privateJwk, alg: DELIVERY_ALG }, DELIVERY_ALG)) as CryptoKey;
  return { publicJwk: toPublicJwk(privateJwk), privateKey };
}

/** The credential as a JWE only the holder of the delivery key's private half can open. */
export async function encryptCredential(credential: string, to: DeliveryPublicJwk): Promise<string> {
  const key = await importJWK({ ...to, alg: DELIVERY_ALG }, DELIVERY_ALG);
  return new CompactEncrypt(new TextEncoder().encode(credential))
    .setProtectedHeader({ alg: DELIVERY_ALG, enc: DELIVERY_ENC, cty: DELIVERY_CTY })
    .encrypt(key);
}

/** The credential inside a JWE to this key; throws when it is not for this key or was altered. */
export async function decryptCredential(jwe: string, privateKey: CryptoKey): Promise<string> {
  const { plaintext } = await compactDecrypt(jwe, privateKey, {
    keyManagementAlgorithms: [DELIVERY_ALG],
    contentEncryptionAlgorithms: [DELIVERY_ENC],
  });
  return new TextDecoder().decode(plaintext);
}
