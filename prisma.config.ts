import path from "node:path";
import { defineConfig } from "prisma/config";

// Prisma's CLI downloads a native schema engine from a CDN that offline machines
// cannot reach. Unless a real binary is configured, run the stand-in that drives the
// official wasm engine through the driver adapters (scripts/prisma-schema-engine.mjs).
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(import.meta.dirname, "scripts/prisma-schema-engine.mjs");

// One model, two providers: PostgreSQL when DATABASE_URL (or PRISMA_PROVIDER) says so,
// SQLite under DATA_DIR otherwise. Each provider has its own migrations folder.
const dataDir = process.env.DATA_DIR ?? ".data";
const url = process.env.DATABASE_URL ?? `file:${path.join(dataDir, "app.db")}`;
const isPostgres = process.env.PRISMA_PROVIDER === "postgresql" || /^postgres(ql)?:/.test(url);
const folder = isPostgres ? "prisma/postgres" : "prisma";

export default defineConfig({
  schema: `${folder}/schema.prisma`,
  migrations: { path: `${folder}/migrations` },
  datasource: { url },
});
