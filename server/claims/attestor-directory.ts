/**
 * The attestors a login trusts, read through a short cache (docs/protocol.md section 4).
 *
 * API: createAttestorDirectory({ db?, configured, dev?, publicUrl, cacheMs? }) -> { find(iss), forget() }.
 * find(iss) answers a TrustedAttestor (its accepted keys and the origins its status lists may
 * be fetched from) or undefined when the issuer is not trusted.
 *
 * Rules:
 * - `TRUSTED_ATTESTORS` and the development attestor are always trusted, with their configured
 *   key; they need no database read. A database record of the same issuer adds its keys.
 * - Records: every trusted Attestor row is read in one query, cached for `cacheMs` (2 s), shared
 *   by concurrent logins. A trust, distrust or key rotation (CLI or admin page, on any node)
 *   therefore holds on every node within `cacheMs`; `forget()` makes it immediate on this one.
 *   A failed read is not cached: find rejects and the next login reads again.
 * - Keys: the current key; each previous key only for credentials issued (`iat`) before its
 *   retirement.
 * - Status list origins (the only origins the verifier fetches, see status-lists.ts): the origin
 *   of an http(s) issuer, and for an attestor hosted here, this server's PUBLIC_URL origin.
 */
import type { Secp256k1PublicJwk } from "../../lib/claims/es256k";
import type { Db } from "../db/client";
import type { AttestorRecord, PreviousKey } from "./attestor-records";

export const ATTESTOR_CACHE_MS = 2_000;

export interface AcceptedKey {
  jwk: unknown;
  kid?: string;
  /** Epoch seconds: the key verifies only credentials whose iat is before it. */
  issuedBefore?: number;
}

export interface TrustedAttestor {
  iss: string;
  /** The Attestor record's id, when there is one. */
  id?: string;
  keys: AcceptedKey[];
  /** Origins (scheme://host[:port]) its status lists may be fetched from. */
  statusOrigins: ReadonlySet<string>;
}

export interface AttestorDirectory {
  find(iss: string): Promise<TrustedAttestor | undefined>;
  forget(): void;
}

export interface AttestorDirectoryOptions {
  db?: Db;
  /** TRUSTED_ATTESTORS (and the development attestor): issuer -> public JWK. */
  configured: ReadonlyMap<string, unknown>;
  /** This server's PUBLIC_URL. */
  publicUrl?: string;
  cacheMs?: number;
  now?: () => number;
}

/** The origin of an http(s) URI, or undefined. */
export function httpOrigin(uri: string): string | undefined {
  if (!/^https?:\/\//i.test(uri) || !URL.canParse(uri)) return undefined;
  return new URL(uri).origin;
}

function originsOf(iss: string, extra?: string): Set<string> {
  const origins = new Set<string>();
  const own = httpOrigin(iss);
  if (own) origins.add(own);
  if (extra) origins.add(extra);
  return origins;
}

function keysOfRecord(record: Pick<AttestorRecord, "publicJwk" | "kid" | "previousKeys">): AcceptedKey[] {
  return [
    { jwk: record.publicJwk, kid: record.kid },
    ...record.previousKeys.map((key: PreviousKey) => ({
      jwk: key.jwk,
      kid: key.kid,
      issuedBefore: Math.floor(Date.parse(key.retiredAt) / 1000),
    })),
  ];
}

export function createAttestorDirectory(options: AttestorDirectoryOptions): AttestorDirectory {
  const cacheMs = options.cacheMs ?? ATTESTOR_CACHE_MS;
  const readNow = options.now ?? Date.now;
  const ownOrigin = options.publicUrl ? httpOrigin(options.publicUrl) : undefined;
  let cached: { until: number; records: Promise<Map<string, TrustedAttestor>> } | undefined;

  const load = async (): Promise<Map<string, TrustedAttestor>> => {
    const rows = await options.db!.attestor.findMany({
      where: { trusted: true },
      select: { id: true, issuer: true, publicJwk: true, kid: true, previousKeys: true, hosted: true },
    });
    return new Map(
      rows.map((row) => [
        row.issuer,
        {
          iss: row.issuer,
          id: row.id,
          keys: keysOfRecord({
            publicJwk: row.publicJwk as unknown as Secp256k1PublicJwk,
            kid: row.kid,
            previousKeys: Array.isArray(row.previousKeys) ? (row.previousKeys as unknown as PreviousKey[]) : [],
          }),
          statusOrigins: originsOf(row.issuer, row.hosted ? ownOrigin : undefined),
        },
      ]),
    );
  };

  const records = (): Promise<Map<string, TrustedAttestor>> => {
    const now = readNow();
    if (cached && cached.until > now) return cached.records;
    const loading = load();
    const entry = { until: now + cacheMs, records: loading };
    loading.catch(() => {
      if (cached === entry) cached = undefined;
    });
    cached = entry;
    return loading;
  };

  return {
    async find(iss) {
      const configuredJwk = options.configured.get(iss);
      if (configuredJwk === undefined) return options.db ? (await records()).get(iss) : undefined;
      // A configured attestor needs no database: a record of the same issuer only adds keys.
      const fromDb = options.db
        ? await records().then(
            (map) => map.get(iss),
            () => undefined,
          )
        : undefined;
      return {
        iss,
        ...(fromDb?.id ? { id: fromDb.id } : {}),
        keys: [{ jwk: configuredJwk }, ...(fromDb?.keys ?? [])],
        statusOrigins: new Set([...originsOf(iss), ...(fromDb?.statusOrigins ?? [])]),
      };
    },
    forget() {
      cached = undefined;
    },
  };
}

/** A directory over a fixed map (tests, tools): issuer -> public JWK. */
export function fixedAttestors(configured: ReadonlyMap<string, unknown>): AttestorDirectory {
  return createAttestorDirectory({ configured });
}
