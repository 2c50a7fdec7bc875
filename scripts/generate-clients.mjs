#!/usr/bin/env node
// Generates both Prisma clients (SQLite and PostgreSQL) so the app can switch with
// DATABASE_URL alone. Runs on `npm install` (postinstall).
import { execFileSync } from "node:child_process";

for (const provider of ["sqlite", "postgresql"]) {
  execFileSync("npx", ["prisma", "generate"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      PRISMA_PROVIDER: provider,
      DATABASE_URL: provider === "sqlite" ? "file:.data/app.db" : "postgresql://localhost/none",
    },
  });
}
