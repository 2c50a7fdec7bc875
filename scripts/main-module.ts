import path from "node:path";
import { fileURLToPath } from "node:url";

/** Whether the module at `moduleUrl` (its import.meta.url) is the script node was asked to run. */
export function isMainModule(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(moduleUrl);
}

/** The repository root, for a script in scripts/. */
export function repoRootOf(moduleUrl: string): string {
  return fileURLToPath(new URL("..", moduleUrl));
}
