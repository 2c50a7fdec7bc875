/**
 * Helpers of the attestor suites: a hosted attestor made in a server's database and data
 * folder, credentials it issues with a status list entry, and a login that presents one.
 */
import { issueCredential, presentCredential } from "../../lib/claims/credentials";
import { privateKeyHexOf, publicJwkOf } from "../../lib/claims/es256k";
import type { WalletKey } from "../../lib/wallet";
import type { Db } from "../../server/db/client";
import {
  allocateStatusIndex,
  createAttestor,
  readAttestorSigningKey,
  type AttestorRecord,
} from "../../server/claims/attestor-records";
import { connectSocket, postAuth, scan, signAnswer, startLogin } from "../protocol/helpers";

export async function createHostedAttestor(db: Db, dataDir: string, publicUrl: string): Promise<AttestorRecord> {
  return createAttestor(db, dataDir, { name: "Test attestor", publicUrl, trusted: true });
}

/** A credential for `holder` with a fresh status list slot; returns it and the IssuedCredential id. */
export async function issueWithStatus(
  db: Db,
  dataDir: string,
  publicUrl: string,
  attestor: AttestorRecord,
  holder: WalletKey,
  claims: Record<string, unknown>,
) {
  const slot = await allocateStatusIndex(db, { attestorId: attestor.id, publicUrl, holderAddress: holder.address });
  const key = await readAttestorSigningKey(dataDir, attestor);
  const credential = await issueCredential({
    issuer: { iss: attestor.issuer, privateKeyHex: privateKeyHexOf(key) },
    holderJwk: publicJwkOf(holder.privateKey),
    claims,
    status: slot.status,
  });
  return {
    credential,
    credentialId: slot.credentialId,
    statusIndex: slot.statusIndex,
    uri: slot.status.status_list.uri,
  };
}

/** A QR login on `baseUrl` that requires `required`, answered with a presentation disclosing `disclose`. */
export async function loginPresenting(
  baseUrl: string,
  key: WalletKey,
  required: string[],
  credential: string,
  disclose: string[] = required,
) {
  const { socket } = await connectSocket(baseUrl);
  try {
    const session = await startLogin(socket, { requiredClaims: required });
    const req = await scan(session);
    const presentation = await presentCredential({
      credential,
      disclose,
      nonce: req.nonce,
      aud: req.uri,
      privateKeyHex: key.privateKey,
    });
    return await postAuth(baseUrl, { ...(await signAnswer(key, req, session.matchCode)), presentation });
  } finally {
    socket.disconnect();
  }
}
