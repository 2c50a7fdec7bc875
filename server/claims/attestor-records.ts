/**
 * Attestors and the credentials they issued, as database records (docs/protocol.md section 4).
 *
 * API (for the CLI, the admin page and the demo attestor's issuer):
 * - createAttestor(db, dataDir, { name, issuer?, publicUrl?, publicJwk?, trusted? }): without `publicJwk` the
 *   attestor is hosted here: a key pair is made, its private half kept in
 *   DATA_DIR/keys/attestors/<id>.json (never in the database). With one it is an outside
 *   attestor known by its public key.
 * - listAttestors(db), findAttestor(db, idOrIssuer), setAttestorTrusted(db, idOrIssuer, trusted).
 * - rotateAttestorKey(db, dataDir, idOrIssuer, { publicJwk?, dropPrevious? }): a new current key
 *   (made here for a hosted attestor); the old one goes to `previousKeys` and still verifies
 *   credentials issued (iat) before the rotation, unless `dropPrevious` (a compromised key).
 * - readAttestorSigningKey(dataDir, attestor): the hosted attestor's current private JWK (to sign
 *   credentials and its status list); throws for an outside attestor.
 * - allocateStatusIndex(db, { attestorId, publicUrl, holderAddress?, vct?, expiresAt? }): records an
 *   IssuedCredential in a free random slot of the attestor's status list and returns its id and
 *   the `status` claim to put in the credential: `{ status_list: { idx, uri } }`.
 * - setCredentialStatus(db, credentialId, "valid" | "revoked" | "suspended").
 * - statusListUri(publicUrl, attestorId): where the status list token is served
 *   (GET /api/attestors/<id>/status-list).
 *
 * Logins read trust through attestor-directory.ts (cached for seconds), never from here directly.
 */
import { randomBytes, randomInt } from "node:crypto";
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { calculateJwkThumbprint } from "jose";
import {
  generatePrivateJwk,
  publicKeyFromJwk,
  type Secp256k1PrivateJwk,
  type Secp256k1PublicJwk,
} from "../../lib/claims/es256k";
import type { Db } from "../db/client";
import { readSecretJson, writeSecretJsonOnce } from "../secret-files";
import { publicPartOf } from "./attestors";

export const ATTESTOR_NAME_MAX_LENGTH = 100;
export const ISSUER_MAX_LENGTH = 500;
export const DEFAULT_STATUS_LIST_SIZE = 65_536;
/** Bits per entry in the status lists (IETF Token Status List): 0 valid, 1 revoked, 2 suspended. */
export const STATUS_BITS = 2;
export const CREDENTIAL_STATUSES = ["valid", "revoked", "suspended"] as const;
export type CredentialStatus = (typeof CREDENTIAL_STATUSES)[number];
/** The status list value of each status (token-status-list section 7.1: VALID, INVALID, SUSPENDED). */
export const STATUS_VALUE: Readonly<Record<CredentialStatus, number>> = { valid: 0, revoked: 1, suspended: 2 };

export interface PreviousKey {
  kid: string;
  jwk: Secp256k1PublicJwk;
  /** ISO date: credentials issued at or after it are not accepted with this key. */
  retiredAt: string;
}

export interface AttestorRecord {
  id: string;
  name: string;
  issuer: string;
  publicJwk: Secp256k1PublicJwk;
  kid: string;
  previousKeys: PreviousKey[];
  trusted: boolean;
  hosted: boolean;
  statusListSize: number;
  createdAt: Date;
  keyRotatedAt: Date | null;
  updatedAt: Date;
}

export class AttestorError extends Error {}

export function statusListPath(attestorId: string): string {
  return `/api/attestors/${encodeURIComponent(attestorId)}/status-list`;
}

export function statusListUri(publicUrl: string, attestorId: string): string {
  return `${publicUrl.replace(/\/+$/, "")}${statusListPath(attestorId)}`;
}

export function attestorKeyFile(dataDir: string, attestorId: string): string {
  return path.join(dataDir, "keys", "attestors", `${attestorId}.json`);
}

/** An attestor id: 24 hex characters, safe in a URL path and a file name. */
export const ATTESTOR_ID_PATTERN = /^[a-f0-9]{24}$/;

export async function kidOf(jwk: Secp256k1PublicJwk): Promise<string> {
  return calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, "sha256");
}

/** A valid secp256k1 public JWK reduced to its public members, or an AttestorError. */
export function parsePublicJwk(value: unknown): Secp256k1PublicJwk {
  if (!publicKeyFromJwk(value) || (value as { d?: unknown }).d !== undefined) {
    throw new AttestorError("the public key must be a secp256k1 public JWK (kty EC, crv secp256k1, x, y; no d)");
  }
  return publicPartOf(value as Secp256k1PrivateJwk);
}

/** A trimmed issuer identifier: an http(s) URL or another URI (e.g. urn:...), without spaces. */
export function parseIssuer(value: string): string {
  const issuer = value.trim();
  if (
    issuer.length === 0 ||
    issuer.length > ISSUER_MAX_LENGTH ||
    /\s/.test(issuer) ||
    !/^[a-z][a-z0-9+.-]*:/i.test(issuer)
  ) {
    throw new AttestorError(
      `the issuer must be a URI (e.g. https://attestor.example) of at most ${ISSUER_MAX_LENGTH} characters`,
    );
  }
  if (/^https?:/i.test(issuer) && !URL.canParse(issuer)) throw new AttestorError("the issuer URL does not parse");
  return issuer;
}

function toRecord(row: {
  id: string;
  name: string;
  issuer: string;
  publicJwk: unknown;
  kid: string;
  previousKeys: unknown;
  trusted: boolean;
  hosted: boolean;
  statusListSize: number;
  createdAt: Date;
  keyRotatedAt: Date | null;
  updatedAt: Date;
}): AttestorRecord {
  return {
    ...row,
    publicJwk: row.publicJwk as Secp256k1PublicJwk,
    previousKeys: Array.isArray(row.previousKeys) ? (row.previousKeys as PreviousKey[]) : [],
  };
}

interface KeyFile {
  /** Oldest first; the current key is the one whose kid is the record's. */
  keys: Secp256k1PrivateJwk[];
}

async function readKeyFile(dataDir: string, attestorId: string): Promise<KeyFile | undefined> {
  const stored = (await readSecretJson(attestorKeyFile(dataDir, attestorId), "attestor key")) as KeyFile | undefined;
  if (stored === undefined) return undefined;
  if (!Array.isArray(stored.keys)) throw new AttestorError(`attestor key file of ${attestorId} is not {keys: [...]}`);
  return stored;
}

/** Replaces the key file atomically (temp file, mode 0600, then rename). */
async function writeKeyFile(dataDir: string, attestorId: string, value: KeyFile): Promise<void> {
  const file = attestorKeyFile(dataDir, attestorId);
  const temporary = `${file}.${randomBytes(8).toString("hex")}.tmp`;
  await writeFile(temporary, JSON.stringify(value), { mode: 0o600, flag: "wx" });
  await rename(temporary, file);
}

export interface CreateAttestorInput {
  name: string;
  /** Its `iss`; default (hosted only) `<publicUrl>/attestors/<id>`. */
  issuer?: string;
  publicUrl?: string;
  /** An outside attestor's public key; without it the attestor is hosted here. */
  publicJwk?: unknown;
  trusted?: boolean;
  statusListSize?: number;
}

export async function createAttestor(db: Db, dataDir: string, input: CreateAttestorInput): Promise<AttestorRecord> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > ATTESTOR_NAME_MAX_LENGTH) {
    throw new AttestorError(`the name must be 1-${ATTESTOR_NAME_MAX_LENGTH} characters`);
  }
  const hosted = input.publicJwk === undefined;
  const id = randomBytes(12).toString("hex");
  if (input.issuer === undefined && (!hosted || input.publicUrl === undefined)) {
    throw new AttestorError("an outside attestor needs its issuer");
  }
  const issuer = parseIssuer(input.issuer ?? `${input.publicUrl!.replace(/\/+$/, "")}/attestors/${id}`);
  if (await db.attestor.findUnique({ where: { issuer }, select: { id: true } })) {
    throw new AttestorError(`an attestor with issuer ${issuer} exists already`);
  }
  let publicJwk: Secp256k1PublicJwk;
  if (hosted) {
    const privateJwk = generatePrivateJwk();
    await mkdir(path.dirname(attestorKeyFile(dataDir, id)), { recursive: true, mode: 0o700 });
    await writeSecretJsonOnce(attestorKeyFile(dataDir, id), { keys: [privateJwk] } satisfies KeyFile);
    publicJwk = publicPartOf(privateJwk);
  } else {
    publicJwk = parsePublicJwk(input.publicJwk);
  }
  const row = await db.attestor.create({
    data: {
      id,
      name,
      issuer,
      publicJwk: { ...publicJwk },
      kid: await kidOf(publicJwk),
      trusted: input.trusted ?? false,
      hosted,
      statusListSize: input.statusListSize ?? DEFAULT_STATUS_LIST_SIZE,
    },
  });
  return toRecord(row);
}

export async function listAttestors(db: Db): Promise<AttestorRecord[]> {
  return (await db.attestor.findMany({ orderBy: [{ createdAt: "asc" }, { id: "asc" }] })).map(toRecord);
}

export async function findAttestor(db: Db, idOrIssuer: string): Promise<AttestorRecord | null> {
  const row = ATTESTOR_ID_PATTERN.test(idOrIssuer)
    ? await db.attestor.findUnique({ where: { id: idOrIssuer } })
    : await db.attestor.findUnique({ where: { issuer: idOrIssuer } });
  return row ? toRecord(row) : null;
}

async function requireAttestor(db: Db, idOrIssuer: string): Promise<AttestorRecord> {
  const found = await findAttestor(db, idOrIssuer);
  if (!found) throw new AttestorError(`no attestor ${idOrIssuer}`);
  return found;
}

export async function setAttestorTrusted(db: Db, idOrIssuer: string, trusted: boolean): Promise<AttestorRecord> {
  const found = await requireAttestor(db, idOrIssuer);
  return toRecord(await db.attestor.update({ where: { id: found.id }, data: { trusted } }));
}

export async function rotateAttestorKey(
  db: Db,
  dataDir: string,
  idOrIssuer: string,
  options: { publicJwk?: unknown; dropPrevious?: boolean; now?: Date } = {},
): Promise<AttestorRecord> {
  const found = await requireAttestor(db, idOrIssuer);
  const now = options.now ?? new Date();
  let publicJwk: Secp256k1PublicJwk;
  if (found.hosted) {
    if (options.publicJwk !== undefined) throw new AttestorError("a hosted attestor's new key is made here: no --jwk");
    const file = (await readKeyFile(dataDir, found.id)) ?? { keys: [] };
    const privateJwk = generatePrivateJwk();
    // The new key is written before the record names it: a signer never meets a kid it has no key for.
    await mkdir(path.dirname(attestorKeyFile(dataDir, found.id)), { recursive: true, mode: 0o700 });
    await writeKeyFile(dataDir, found.id, {
      keys: [
        ...(options.dropPrevious ? file.keys.filter((key) => key.x === found.publicJwk.x) : file.keys),
        privateJwk,
      ],
    });
    publicJwk = publicPartOf(privateJwk);
  } else {
    if (options.publicJwk === undefined)
      throw new AttestorError("an outside attestor's new public key is needed: --jwk");
    publicJwk = parsePublicJwk(options.publicJwk);
  }
  const kid = await kidOf(publicJwk);
  if (kid === found.kid) throw new AttestorError("that is the current key already");
  const previousKeys: PreviousKey[] = options.dropPrevious
    ? []
    : [...found.previousKeys, { kid: found.kid, jwk: found.publicJwk, retiredAt: now.toISOString() }];
  const row = await db.attestor.update({
    where: { id: found.id },
    data: { publicJwk: { ...publicJwk }, kid, previousKeys: previousKeys as never, keyRotatedAt: now },
  });
  return toRecord(row);
}

/** The hosted attestor's current private key (the one named by the record's kid). */
export async function readAttestorSigningKey(dataDir: string, attestor: AttestorRecord): Promise<Secp256k1PrivateJwk> {
  if (!attestor.hosted) throw new AttestorError(`attestor ${attestor.id} is not hosted here: no private key`);
  const file = await readKeyFile(dataDir, attestor.id);
  const key = file?.keys.find((jwk) => jwk.x === attestor.publicJwk.x && jwk.y === attestor.publicJwk.y);
  if (!key)
    throw new AttestorError(
      `the key of attestor ${attestor.id} is missing from ${attestorKeyFile(dataDir, attestor.id)}`,
    );
  return key;
}

export interface AllocateStatusIndexInput {
  attestorId: string;
  /** The server's PUBLIC_URL: the status list's origin. */
  publicUrl: string;
  holderAddress?: string;
  vct?: string;
  expiresAt?: Date;
}

export interface AllocatedStatus {
  credentialId: string;
  statusIndex: number;
  /** The credential's `status` claim. */
  status: { status_list: { idx: number; uri: string } };
}

const ALLOCATION_ATTEMPTS = 20;

function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "P2002";
}

/**
 * A new IssuedCredential in a random free slot of the attestor's list (random, so an index
 * tells nothing about when or in which order credentials were issued).
 */
export async function allocateStatusIndex(db: Db, input: AllocateStatusIndexInput): Promise<AllocatedStatus> {
  const attestor = await db.attestor.findUnique({
    where: { id: input.attestorId },
    select: { id: true, hosted: true, statusListSize: true },
  });
  if (!attestor) throw new AttestorError(`no attestor ${input.attestorId}`);
  if (!attestor.hosted) throw new AttestorError(`attestor ${input.attestorId} is not hosted here`);
  for (let attempt = 0; attempt < ALLOCATION_ATTEMPTS; attempt++) {
    const statusIndex = randomInt(attestor.statusListSize);
    try {
      const row = await db.issuedCredential.create({
        data: {
          attestorId: attestor.id,
          statusIndex,
          holderAddress: input.holderAddress ?? null,
          vct: input.vct ?? null,
          expiresAt: input.expiresAt ?? null,
        },
        select: { id: true },
      });
      return {
        credentialId: row.id,
        statusIndex,
        status: { status_list: { idx: statusIndex, uri: statusListUri(input.publicUrl, attestor.id) } },
      };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
  }
  throw new AttestorError(`the status list of attestor ${input.attestorId} is (nearly) full`);
}

export interface IssuedCredentialRecord {
  id: string;
  attestorId: string;
  statusIndex: number;
  status: CredentialStatus;
  holderAddress: string | null;
  vct: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  statusChangedAt: Date | null;
}

export async function setCredentialStatus(
  db: Db,
  credentialId: string,
  status: CredentialStatus,
  now = new Date(),
): Promise<IssuedCredentialRecord> {
  const found = await db.issuedCredential.findUnique({ where: { id: credentialId }, select: { attestorId: true } });
  if (!found) throw new AttestorError(`no issued credential ${credentialId}`);
  const [row] = await db.$transaction([
    db.issuedCredential.update({ where: { id: credentialId }, data: { status, statusChangedAt: now } }),
    // The list's version: its token's iat and the served ETag follow updatedAt.
    db.attestor.update({ where: { id: found.attestorId }, data: { updatedAt: now }, select: { id: true } }),
  ]);
  return row as IssuedCredentialRecord;
}

export async function listIssuedCredentials(
  db: Db,
  attestorId: string,
  options: { take?: number } = {},
): Promise<IssuedCredentialRecord[]> {
  return (await db.issuedCredential.findMany({
    where: { attestorId },
    orderBy: [{ createdAt: "desc" }, { id: "asc" }],
    take: options.take ?? 100,
  })) as IssuedCredentialRecord[];
}
