import { rm } from "node:fs/promises";

/** Removes the servers' temporary data folders (made in playwright.config.ts). */
export default async function removeDataDirs() {
  for (const dir of [process.env.E2E_DATA_DIR, process.env.E2E_SHORT_TTL_DATA_DIR]) {
    if (dir?.includes("wallet-login-e2e-")) await rm(dir, { recursive: true, force: true });
  }
}
