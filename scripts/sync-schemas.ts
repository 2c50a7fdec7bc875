/**
 * Writes prisma/postgres/schema.prisma from prisma/schema.prisma: the same models,
 * with the PostgreSQL provider and the generated client beside the SQLite one.
 * Prisma allows one provider per schema, so the PostgreSQL copy is derived, never edited.
 *
 *   node --import tsx scripts/sync-schemas.ts           rewrite the PostgreSQL schema
 *   node --import tsx scripts/sync-schemas.ts --check   exit 1 when it is out of date
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HEADER = "// GENERATED from prisma/schema.prisma by scripts/sync-schemas.ts: edit that one.\n";

export interface SchemaPaths {
  source: string;
  target: string;
}

export function getSchemaPaths(root = fileURLToPath(new URL("..", import.meta.url))): SchemaPaths {
  return {
    source: path.join(root, "prisma/schema.prisma"),
    target: path.join(root, "prisma/postgres/schema.prisma"),
  };
}

/** The PostgreSQL schema for a SQLite schema text; paths say where each file lives. */
export function renderPostgresSchema(sqliteSchema: string, paths: SchemaPaths): string {
  // The source's opening comment describes the SQLite file; the header replaces it.
  const body = sqliteSchema.replace(/^(?:[ \t]*\/\/[^\n]*\n)+/, "");

  let providers = 0;
  let outputs = 0;
  const rendered = body
    .replace(/(datasource\s+\w+\s*\{[^}]*?provider\s*=\s*)"sqlite"/, (_, head: string) => {
      providers++;
      return `${head}"postgresql"`;
    })
    .replace(/(generator\s+client\s*\{[^}]*?output\s*=\s*)"([^"]+)"/, (_, head: string, output: string) => {
      outputs++;
      const sqliteOut = path.resolve(path.dirname(paths.source), output);
      if (path.basename(sqliteOut) !== "sqlite") {
        throw new Error(
          `the SQLite client's output must end in /sqlite (got ${output}) so the PostgreSQL one can sit beside it`,
        );
      }
      const postgresOut = path.join(path.dirname(sqliteOut), "postgres");
      return `${head}"${path.relative(path.dirname(paths.target), postgresOut).split(path.sep).join("/")}"`;
    });
  if (providers !== 1) throw new Error(`${paths.source}: expected a datasource with provider = "sqlite"`);
  if (outputs !== 1) throw new Error(`${paths.source}: expected generator client with an output path`);
  return HEADER + rendered;
}

/** Returns whether the PostgreSQL schema was already in step; writes it unless checking. */
export async function syncSchemas(opts: { check: boolean; paths?: SchemaPaths }): Promise<{ isInSync: boolean }> {
  const paths = opts.paths ?? getSchemaPaths();
  const expected = renderPostgresSchema(await fs.readFile(paths.source, "utf8"), paths);
  const current = await fs.readFile(paths.target, "utf8").catch(() => undefined);
  const isInSync = current === expected;
  if (!isInSync && !opts.check) {
    await fs.mkdir(path.dirname(paths.target), { recursive: true });
    await fs.writeFile(paths.target, expected);
  }
  return { isInSync };
}

async function main(): Promise<void> {
  const check = process.argv.includes("--check");
  const { isInSync } = await syncSchemas({ check });
  const target = path.relative(process.cwd(), getSchemaPaths().target);
  if (isInSync) console.log(`${target} is in step with prisma/schema.prisma`);
  else if (check) {
    console.error(`${target} is out of date: run \`node --import tsx scripts/sync-schemas.ts\``);
    process.exitCode = 1;
  } else {
    console.log(`wrote ${target}; then create its migration: DATABASE_URL=postgresql://... npx prisma migrate dev`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
