/**
 * The schema-engine stand-in, driven by the real Prisma CLI offline, and its
 * agreement with our start-up migrator (server/db/migrate.ts) in both directions:
 * what `prisma migrate deploy` records, ours accepts; what ours records, `prisma
 * migrate status` accepts; and the database ours builds is the one the schema describes.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { migrateDatabase } from "../server/db/migrate";
import type { DatabaseProvider } from "../server/db/migrate";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const PRISMA_CLI = createRequire(import.meta.url).resolve("prisma/build/index.js");
const STAND_IN = path.join(REPO_ROOT, "scripts/prisma-schema-engine.mjs");
// A CLI run takes seconds alone; they run side by side (six wasm engines at once), and on a
// loaded 2-core machine one took over 60 s. The bound is there to stop a hang, not to time it.
const CLI_TIMEOUT_MS = 180_000;

const PG_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const pgProbe = await probePostgres(PG_ADMIN_URL);
const isPgSkipped = !pgProbe.ok && process.env.CI !== "true";
if (isPgSkipped) {
  console.warn(
    `Skipping the PostgreSQL schema-engine tests: no server answered at ${PG_ADMIN_URL} (${pgProbe.reason})`,
  );
}

interface CliResult {
  code: number;
  output: string;
}

function runPrisma(args: string[], env: { DATABASE_URL: string; PRISMA_PROVIDER?: string }): Promise<CliResult> {
  return new Promise((resolve) => {
    const { PRISMA_PROVIDER: _provider, DATABASE_URL: _url, ...inherited } = process.env;
    execFile(
      process.execPath,
      [PRISMA_CLI, ...args],
      {
        cwd: REPO_ROOT,
        timeout: CLI_TIMEOUT_MS,
        env: {
          ...inherited,
          ...env,
          // the stand-in under test, even where a real engine is configured
          PRISMA_SCHEMA_ENGINE_BINARY: STAND_IN,
          PRISMA_HIDE_UPDATE_MESSAGE: "1",
          CHECKPOINT_DISABLE: "1",
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

/** Expects exit code 0, showing the CLI's output when not. */
function expectSuccess(result: CliResult, what: string): void {
  expect(result.code, `${what} failed:\n${result.output}`).toBe(0);
}

interface Target {
  provider: DatabaseProvider;
  schema: string;
  createScratch(): Promise<string>;
  cleanUp(): Promise<void>;
}

function createSqliteTarget(): Target {
  const dirs: string[] = [];
  return {
    provider: "sqlite",
    schema: "prisma/schema.prisma",
    async createScratch() {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), "wl-engine-test-"));
      dirs.push(dir);
      return `file:${path.join(dir, "app.db")}`;
    },
    async cleanUp() {
      await Promise.all(dirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
    },
  };
}

function createPostgresTarget(): Target {
  const names: string[] = [];
  const prefix = `wl_engine_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  return {
    provider: "postgresql",
    schema: "prisma/postgres/schema.prisma",
    async createScratch() {
      if (!pgProbe.ok) throw new Error(`PostgreSQL did not answer at ${PG_ADMIN_URL}: ${pgProbe.reason}`);
      const name = `${prefix}_${names.length}`;
      names.push(name);
      await runPg(PG_ADMIN_URL, `CREATE DATABASE "${name}"`);
      const url = new URL(PG_ADMIN_URL);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async cleanUp() {
      for (const name of names) await runPg(PG_ADMIN_URL, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

describe("prisma-schema-engine stand-in", () => {
  const targets = [createSqliteTarget(), createPostgresTarget()];
  afterAll(() => Promise.all(targets.map((target) => target.cleanUp())));

  for (const target of targets) {
    it(
      `${target.provider}: validate, migrate deploy and migrate status agree with our migrator`,
      { concurrent: true, skip: target.provider === "postgresql" && isPgSkipped, timeout: CLI_TIMEOUT_MS },
      async () => {
        const [deployedUrl, ourUrl] = await Promise.all([target.createScratch(), target.createScratch()]);
        const env = (url: string) => ({ DATABASE_URL: url, PRISMA_PROVIDER: target.provider });

        const [validated, deployed, ours] = await Promise.all([
          runPrisma(["validate"], env(deployedUrl)),
          runPrisma(["migrate", "deploy"], env(deployedUrl)),
          migrateDatabase({ url: ourUrl }),
        ]);
        expectSuccess(validated, "prisma validate");
        expect(validated.output).toContain(`${target.schema} is valid`);
        expectSuccess(deployed, "prisma migrate deploy");
        expect(ours.applied.length).toBeGreaterThan(0);

        const [ourStatus, drift, oursAfterDeploy] = await Promise.all([
          runPrisma(["migrate", "status"], env(ourUrl)),
          // exit 2 would mean the database ours built differs from the schema
          runPrisma(
            ["migrate", "diff", "--from-config-datasource", "--to-schema", target.schema, "--exit-code"],
            env(ourUrl),
          ),
          // same checksums, same names: nothing left for ours to do
          migrateDatabase({ url: deployedUrl }),
        ]);
        expectSuccess(ourStatus, "prisma migrate status after our migrator");
        expect(ourStatus.output).toContain("Database schema is up to date");
        expectSuccess(drift, "prisma migrate diff against the schema");
        expect(oursAfterDeploy).toEqual({ applied: [] });
      },
    );
  }
});

async function probePostgres(url: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  } finally {
    await client.end().catch(() => {});
  }
}

async function runPg(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
