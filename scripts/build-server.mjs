#!/usr/bin/env node
// Compiles the custom server to plain JavaScript in dist/server/ (`npm run build` runs it after
// `next build`), so production starts with `node dist/server/index.js`, no TypeScript loader.
// usage: node scripts/build-server.mjs [outdir]   (outdir: two folders deep, default dist/server)
//
// - server/ and the lib/ and generated/ modules it imports are bundled; packages stay imports
//   of node_modules (native addons, Prisma's runtime and Next load as they do from source).
// - Every output file sits directly in dist/server/: two folders below the project root, as the
//   sources in server/<part>/ are, so paths taken from import.meta.url (Prisma's migrations in
//   server/db/migrate.ts) point at the same files; dynamic imports become chunks beside them.
// - The SQLite writer thread's module is an entry of its own, dist/server/sqlite-writer-worker.js;
//   server/db/sqlite-writer.ts starts it directly when it runs compiled.
import { rm } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";

const outdir = process.argv[2] ?? "dist/server";
if (path.relative(process.cwd(), path.resolve(outdir)).split(path.sep).length !== 2) {
  console.error(`build-server: ${outdir} must be two folders below the project root (e.g. dist/server)`);
  process.exit(1);
}
await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: [
    { in: "server/index.ts", out: "index" },
    { in: "server/db/sqlite-writer-worker.ts", out: "sqlite-writer-worker" },
  ],
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  packages: "external",
  sourcemap: true,
  chunkNames: "chunk-[hash]",
  logLevel: "warning",
});
console.log(`server compiled to ${outdir}/`);
