/**
 * Attestors and their credentials' status from the command line, straight against the
 * database the server uses (DATABASE_URL, else SQLite under DATA_DIR; migrated first, as the
 * server does). A hosted attestor's private key goes to DATA_DIR/keys/attestors/<id>.json,
 * so run it with the server's DATA_DIR. Records: server/claims/attestor-records.ts.
 */
import { loadConfig } from "../server/config";
import { createDb } from "../server/db/client";
import type { Db } from "../server/db/client";
import { migrateDatabase } from "../server/db/migrate";
import {
  ATTESTOR_NAME_MAX_LENGTH,
  AttestorError,
  createAttestor,
  findAttestor,
  listAttestors,
  rotateAttestorKey,
  setAttestorTrusted,
  setCredentialStatus,
  statusListUri,
  type AttestorRecord,
  type CredentialStatus,
} from "../server/claims/attestor-records";
import { ATTESTOR_CACHE_MS } from "../server/claims/attestor-directory";
import { UsageError, parseCommandLine, processIo, usageFailure } from "./cli-args";
import type { CliIo } from "./cli-args";
import { isMainModule } from "./main-module";

const USAGE = `Usage: npm run attestor -- <command> [options]

Commands:
  create --name <name> [--issuer <uri>] [--jwk <public JWK>] [--trusted] [--json]
                        record an attestor. Without --jwk it is hosted here: a key pair is
                        made (private half in DATA_DIR/keys/attestors/<id>.json) and its issuer
                        defaults to PUBLIC_URL/attestors/<id>. With --jwk it is an outside
                        attestor known by its public key (--issuer then required).
  list [--json]         every attestor: id, name, issuer, kid, trusted, hosted, created
  show <id|issuer>      one attestor as JSON (public key, previous key ids)
  trust <id|issuer>     logins accept its credentials (running servers follow within ${ATTESTOR_CACHE_MS / 1000} s)
  distrust <id|issuer>  logins refuse them
  rotate-key <id|issuer> [--jwk <public JWK>] [--drop-previous]
                        a new current key (made here for a hosted attestor; --jwk for an
                        outside one). Credentials issued before still verify with the old key
                        unless --drop-previous (for a compromised key).
  revoke <credentialId>     set a credential's status list entry to revoked (1)
  suspend <credentialId>    ... to suspended (2)
  reinstate <credentialId>  ... back to valid (0)

Options:
  --name <name>         1-${ATTESTOR_NAME_MAX_LENGTH} characters
  --issuer <uri>        the credentials' iss, e.g. https://attestor.example
  --jwk <json>          a secp256k1 public JWK: {"kty":"EC","crv":"secp256k1","x":"...","y":"..."}
  --trusted             create it trusted at once
  --drop-previous       rotate-key: forget every earlier key
  --json                machine-readable output
  -h, --help            show this text

TRUSTED_ATTESTORS (configuration) stays trusted whatever these records say.
The database is the server's: DATABASE_URL, else <DATA_DIR or .data>/app.db.
Exit codes: 0 done, 1 failed, 2 usage.`;

const OPTIONS = {
  name: { type: "string" },
  issuer: { type: "string" },
  jwk: { type: "string" },
  trusted: { type: "boolean" },
  "drop-previous": { type: "boolean" },
  json: { type: "boolean" },
} as const;

const STATUS_OF_COMMAND: ReadonlyMap<string, CredentialStatus> = new Map([
  ["revoke", "revoked"],
  ["suspend", "suspended"],
  ["reinstate", "valid"],
]);

function parseJwkOption(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError("--jwk must be JSON");
  }
}

function summary(record: AttestorRecord) {
  return {
    id: record.id,
    name: record.name,
    issuer: record.issuer,
    kid: record.kid,
    publicJwk: record.publicJwk,
    previousKids: record.previousKeys.map((key) => key.kid),
    trusted: record.trusted,
    hosted: record.hosted,
    createdAt: record.createdAt.toISOString(),
    keyRotatedAt: record.keyRotatedAt?.toISOString() ?? null,
  };
}

export async function runAttestorCli(argv: string[], io: CliIo): Promise<number> {
  const cli = { usage: USAGE, options: OPTIONS, out: io.out, err: io.err };
  const parsed = parseCommandLine(argv, cli);
  if (parsed.exitCode !== undefined) return parsed.exitCode;
  const { command, args, options } = parsed;
  const isJson = options.json === true;

  let close = async () => {};
  const config = () => loadConfig(io.env, { isPublicUrlRequired: false });
  const openDb = async (): Promise<Db> => {
    const { databaseUrl } = config();
    await migrateDatabase({ url: databaseUrl });
    const handle = await createDb({ url: databaseUrl });
    close = handle.close;
    return handle.prisma;
  };
  const oneArg = (what: string): string => {
    const [value] = args;
    if (value === undefined || args.length !== 1) throw new UsageError(`${command} takes one ${what}`);
    return value;
  };
  const show = (record: AttestorRecord, text: string) => io.out(isJson ? JSON.stringify(summary(record)) : text);
  try {
    switch (command) {
      case "create": {
        if (options.name === undefined) throw new UsageError("create needs --name");
        const publicJwk = parseJwkOption(options.jwk);
        if (publicJwk !== undefined && options.issuer === undefined) throw new UsageError("--jwk needs --issuer");
        const { dataDir, publicUrl } = config();
        const db = await openDb();
        const record = await createAttestor(db, dataDir, {
          name: options.name,
          issuer: options.issuer,
          publicUrl,
          publicJwk,
          trusted: options.trusted === true,
        });
        show(
          record,
          [
            `Attestor "${record.name}" recorded${record.trusted ? " and trusted" : " (not trusted yet: npm run attestor -- trust " + record.id + ")"}.`,
            `  id           ${record.id}`,
            `  issuer       ${record.issuer}`,
            `  kid          ${record.kid}`,
            `  hosted       ${record.hosted ? `yes (status list: ${statusListUri(publicUrl, record.id)})` : "no"}`,
          ].join("\n"),
        );
        return 0;
      }
      case "list": {
        const records = await listAttestors(await openDb());
        if (isJson) {
          io.out(JSON.stringify(records.map(summary)));
          return 0;
        }
        if (records.length === 0) {
          io.out("No attestors yet: npm run attestor -- create --name <name>");
          return 0;
        }
        const table = [
          ["id", "name", "issuer", "kid", "trusted", "hosted", "created"],
          ...records.map((r) => [
            r.id,
            r.name,
            r.issuer,
            r.kid.slice(0, 12),
            r.trusted ? "yes" : "no",
            r.hosted ? "yes" : "no",
            r.createdAt.toISOString(),
          ]),
        ];
        const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
        io.out(
          table
            .map((line) =>
              line
                .map((cell, c) => cell.padEnd(widths[c]!))
                .join("  ")
                .trimEnd(),
            )
            .join("\n"),
        );
        return 0;
      }
      case "trust":
      case "distrust": {
        const record = await setAttestorTrusted(await openDb(), oneArg("attestor id or issuer"), command === "trust");
        show(record, `${record.id} (${record.issuer}) ${command === "trust" ? "trusted" : "distrusted"}.`);
        return 0;
      }
      case "rotate-key": {
        const idOrIssuer = oneArg("attestor id or issuer");
        const publicJwk = parseJwkOption(options.jwk);
        const { dataDir } = config();
        const record = await rotateAttestorKey(await openDb(), dataDir, idOrIssuer, {
          publicJwk,
          dropPrevious: options["drop-previous"] === true,
        });
        show(
          record,
          `${record.id}: new key ${record.kid}${options["drop-previous"] ? " (earlier keys dropped)" : ""}.`,
        );
        return 0;
      }
      case "revoke":
      case "suspend":
      case "reinstate": {
        const status = STATUS_OF_COMMAND.get(command)!;
        const row = await setCredentialStatus(await openDb(), oneArg("credential id"), status);
        io.out(
          isJson
            ? JSON.stringify({
                id: row.id,
                attestorId: row.attestorId,
                statusIndex: row.statusIndex,
                status: row.status,
              })
            : `${row.id} (attestor ${row.attestorId}, index ${row.statusIndex}) is ${row.status}.`,
        );
        return 0;
      }
      case "show": {
        const record = await findAttestor(await openDb(), oneArg("attestor id or issuer"));
        if (!record) throw new AttestorError(`no attestor ${args[0]}`);
        io.out(JSON.stringify(summary(record), null, isJson ? undefined : 2));
        return 0;
      }
      default:
        throw new UsageError(`unknown command: ${command}`);
    }
  } catch (error) {
    return error instanceof UsageError ? usageFailure(cli, error.message) : failed(io, error);
  } finally {
    await close();
  }
}

function failed(io: CliIo, error: unknown): number {
  io.err(error instanceof Error ? error.message : String(error));
  return 1;
}

if (isMainModule(import.meta.url)) process.exitCode = await runAttestorCli(process.argv.slice(2), processIo);
