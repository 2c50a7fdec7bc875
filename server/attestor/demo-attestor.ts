/**
 * The demo attestor's record and signing key (docs/protocol.md section 6). It is an Attestor record
 * hosted here (server/claims/attestor-records.ts) with the issuer `<PUBLIC_URL>/attestor`, made
 * trusted on first start; its private key is the record's key file in DATA_DIR/keys/attestors/
 * (0600), never in the database, never logged. `npm run attestor -- rotate-key` or `distrust`
 * acts on it like on any attestor: each issuance reads the current record and key.
 */
import { privateKeyHexOf, type Secp256k1PublicJwk } from "../../lib/claims/es256k";
import { attestorIssuer } from "../../lib/protocol/attestor";
import {
  AttestorError,
  createAttestor,
  findAttestor,
  readAttestorSigningKey,
  type AttestorRecord,
} from "../claims/attestor-records";
import type { Db } from "../db/client";

export const DEMO_ATTESTOR_NAME = "Wallet Login demo attestor";

export interface AttestorKey {
  iss: string;
  /** The Attestor record's id (its status list's). */
  attestorId: string;
  /** 0x-prefixed hex; held by the AttestorService for one signature. */
  privateKeyHex: string;
  publicJwk: Secp256k1PublicJwk;
}

/** The demo attestor's record, created (hosted, trusted) when there is none; nodes starting at once agree on one. */
export async function ensureDemoAttestor(options: {
  db: Db;
  dataDir: string;
  publicUrl: string;
}): Promise<AttestorRecord> {
  const issuer = attestorIssuer(options.publicUrl);
  let record = await findAttestor(options.db, issuer);
  if (!record) {
    try {
      record = await createAttestor(options.db, options.dataDir, {
        name: DEMO_ATTESTOR_NAME,
        issuer,
        publicUrl: options.publicUrl,
        trusted: true,
      });
    } catch (error) {
      // Another node created it meanwhile (the issuer is unique).
      record = await findAttestor(options.db, issuer);
      if (!record) throw error;
    }
  }
  if (!record.hosted) {
    throw new AttestorError(`attestor ${issuer} is an outside attestor: the demo attestor needs its key here`);
  }
  return record;
}

/** The demo attestor's current key, read from its record and key file (so a rotation holds at once). */
export async function readDemoAttestorKey(db: Db, dataDir: string, attestorId: string): Promise<AttestorKey> {
  const record = await findAttestor(db, attestorId);
  if (!record) throw new AttestorError(`the demo attestor's record ${attestorId} is gone`);
  const privateJwk = await readAttestorSigningKey(dataDir, record);
  return {
    iss: record.issuer,
    attestorId: record.id,
    privateKeyHex: privateKeyHexOf(privateJwk),
    publicJwk: record.publicJwk,
  };
}
