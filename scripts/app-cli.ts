/**
 * Partner apps from the command line, straight against the database the server uses
 * (DATABASE_URL, else SQLite under DATA_DIR; migrated first, as the server does).
 *
 * Owners: `--owner <address>` makes the user with that address the owner (the user is
 * created if missing), so the app also shows on their /partners page once they sign
 * in. Without it the app has no owner: nobody manages it on /partners; the CLI does.
 *
 * A generated private key is printed once and never stored; it is the app's only key.
 */
import { APP_NAME_MAX_LENGTH } from "../lib/protocol/data";
import { createAppBodySchema } from "../lib/protocol/data-schemas";
import { loadConfig } from "../server/config";
import { createDb } from "../server/db/client";
import type { Db } from "../server/db/client";
import { migrateDatabase } from "../server/db/migrate";
import { createApp, listAllApps, normaliseAddress, setAppActive, toAppSummary } from "../server/data/apps";
import { APP_CACHE_MS } from "../server/data/app-directory";
import { UsageError, parseCommandLine, processIo, usageFailure } from "./cli-args";
import type { CliIo } from "./cli-args";
import { isMainModule } from "./main-module";
import type { CliValues } from "./cli-args";

const USAGE = `Usage: npm run app -- <command> [options]

Commands:
  create --name <name> [--owner <address>] [--address <address>] [--rate-limit <n>] [--json]
                        register an app; without --address a key pair is made and the
                        private key printed once (it is not stored anywhere)
  list [--json]         every app: id, name, address, owner, created, last use, active
  disable <appId>       refuse the app's requests (running servers follow within ${APP_CACHE_MS / 1000} s)
  enable <appId>        accept them again

Options:
  --name <name>         1-${APP_NAME_MAX_LENGTH} characters
  --owner <address>     the user who manages it on /partners (created if missing);
                        without it the app has no owner and only this CLI manages it
  --address <address>   an address whose key the partner already holds
  --rate-limit <n>      signed fetches per minute (default 600)
  --json                machine-readable output
  -h, --help            show this text

The database is the server's: DATABASE_URL, else <DATA_DIR or .data>/app.db.
Exit codes: 0 done, 1 failed, 2 usage.`;

const OPTIONS = {
  name: { type: "string" },
  owner: { type: "string" },
  address: { type: "string" },
  "rate-limit": { type: "string" },
  json: { type: "boolean" },
} as const;

type AppCliOptions = CliValues<typeof OPTIONS>;

export async function runAppCli(argv: string[], io: CliIo): Promise<number> {
  const cli = { usage: USAGE, options: OPTIONS, out: io.out, err: io.err };
  const parsed = parseCommandLine(argv, cli);
  if (parsed.exitCode !== undefined) return parsed.exitCode;
  const { command, args, options } = parsed;

  let db: Db | undefined;
  let close = async () => {};
  const openDb = async (): Promise<Db> => {
    const config = loadConfig(io.env, { isPublicUrlRequired: false });
    await migrateDatabase({ url: config.databaseUrl });
    const handle = await createDb({ url: config.databaseUrl });
    close = handle.close;
    return handle.prisma;
  };
  try {
    switch (command) {
      case "create": {
        const input = readCreateInput(options);
        db = await openDb();
        return await create(db, input, options.json === true, io);
      }
      case "list":
        db = await openDb();
        return await list(db, options.json === true, io);
      case "disable":
      case "enable": {
        const [appId] = args;
        if (appId === undefined || args.length !== 1) throw new UsageError(`${command} takes one app id`);
        db = await openDb();
        const result = await setAppActive(db, appId, command === "enable");
        if (!result.ok) {
          io.err(`No app with id ${appId}.`);
          return 1;
        }
        io.out(options.json ? JSON.stringify(toAppSummary(result.app)) : `${appId} ${command}d.`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command: ${command}`);
    }
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(cli, error.message);
    io.err(error instanceof Error ? error.message : String(error));
    return 1;
  } finally {
    await close();
  }
}

interface CreateInput {
  name: string;
  address?: string;
  owner?: string;
  rateLimitPerMinute?: number;
}

function readCreateInput(options: AppCliOptions): CreateInput {
  if (options.name === undefined) throw new UsageError("create needs --name");
  const parsed = createAppBodySchema.safeParse({ name: options.name, address: options.address });
  if (!parsed.success)
    throw new UsageError(`--name must be 1-${APP_NAME_MAX_LENGTH} characters and --address 0x + 40 hex`);
  let owner: string | undefined;
  if (options.owner !== undefined) {
    const normalised = normaliseAddress(options.owner);
    if (normalised === null) throw new UsageError("--owner must be an address (0x + 40 hex, checksum if mixed case)");
    owner = normalised;
  }
  let rateLimitPerMinute: number | undefined;
  if (options["rate-limit"] !== undefined) {
    rateLimitPerMinute = Number(options["rate-limit"]);
    if (!Number.isInteger(rateLimitPerMinute) || rateLimitPerMinute < 1 || rateLimitPerMinute > 1_000_000_000) {
      throw new UsageError("--rate-limit must be a whole number from 1");
    }
  }
  return { name: parsed.data.name, address: parsed.data.address, owner, rateLimitPerMinute };
}

async function create(db: Db, input: CreateInput, isJson: boolean, io: CliIo): Promise<number> {
  let ownerUserId: string | null = null;
  if (input.owner !== undefined) {
    const owner = await db.user.upsert({
      where: { address: input.owner },
      create: { address: input.owner, claims: {} },
      update: {},
    });
    ownerUserId = owner.id;
  }
  const created = await createApp(db, {
    name: input.name,
    address: input.address,
    ownerUserId,
    rateLimitPerMinute: input.rateLimitPerMinute,
  });
  if (!created.ok) {
    io.err(created.message ?? "The app could not be created.");
    return 1;
  }
  const { app, privateKey } = created;
  if (isJson) {
    io.out(JSON.stringify({ appId: app.id, address: app.address, privateKey: privateKey ?? null }));
    return 0;
  }
  const lines = [
    `App "${app.name}" registered${input.owner ? ` for ${input.owner}` : " (no owner: managed with this CLI)"}.`,
    `  app id       ${app.id}`,
    `  address      ${app.address}`,
  ];
  if (privateKey !== undefined) {
    lines.push(
      `  private key  ${privateKey}`,
      "",
      "Keep the private key secret and store it now: it is shown once and kept nowhere.",
    );
  }
  io.out(lines.join("\n"));
  return 0;
}

async function list(db: Db, isJson: boolean, io: CliIo): Promise<number> {
  const apps = await listAllApps(db);
  const owners = new Map(
    (
      await db.user.findMany({
        where: { id: { in: apps.flatMap((app) => (app.ownerUserId ? [app.ownerUserId] : [])) } },
        select: { id: true, address: true },
      })
    ).map((user) => [user.id, user.address]),
  );
  const rows = apps.map((app) => ({
    ...toAppSummary(app),
    owner: app.ownerUserId ? (owners.get(app.ownerUserId) ?? null) : null,
    rateLimitPerMinute: app.rateLimitPerMinute,
  }));
  if (isJson) {
    io.out(JSON.stringify(rows));
    return 0;
  }
  if (rows.length === 0) {
    io.out("No apps yet: npm run app -- create --name <name>");
    return 0;
  }
  const table = [
    ["id", "name", "address", "owner", "created", "last use", "active"],
    ...rows.map((row) => [
      row.id,
      row.name,
      row.address,
      row.owner ?? "-",
      row.createdAt,
      row.lastUsedAt ?? "-",
      row.active ? "yes" : "no",
    ]),
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  io.out(
    table
      .map((line) =>
        line
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join("  ")
          .trimEnd(),
      )
      .join("\n"),
  );
  return 0;
}

if (isMainModule(import.meta.url)) process.exitCode = await runAppCli(process.argv.slice(2), processIo);
