/**
 * Secrets the server generates into DATA_DIR on first start (the token signing key, the channel
 * app credentials), written so that several nodes starting at once agree on one.
 *
 * Rules:
 * - writeSecretJsonOnce writes a temp file (mode 0600) and hard-links it to the name: the first
 *   node to link wins, and every node then reads the winner's file.
 * - readSecretJson never puts the file's text in an error: JSON.parse would quote the secret.
 * - readOrCreateSecretJson keeps the folder at 0700 and the file at 0600, also when they
 *   existed before (mkdir and an earlier copy may have left wider modes).
 */
import { randomBytes } from "node:crypto";
import { chmod, link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import path from "node:path";

/** Writes `value` as JSON to `file` unless the file exists already (then it is left as it is). */
export async function writeSecretJsonOnce(file: string, value: unknown): Promise<void> {
  const temporary = `${file}.${randomBytes(8).toString("hex")}.tmp`;
  await writeFile(temporary, JSON.stringify(value), { mode: 0o600, flag: "wx" });
  try {
    await link(temporary, file);
  } catch (error) {
    // Another node won the race: its file is the file.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await unlink(temporary);
  }
}

/** The text of `file`, or undefined when there is none (any other read error is thrown). */
export async function readFileIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** The parsed JSON of `file`, or undefined when there is none; `label` names it in errors. */
export async function readSecretJson(file: string, label: string): Promise<unknown> {
  const text = await readFileIfExists(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${label} file ${file} is not valid JSON`);
  }
}

/**
 * The JSON in `file` (its folder is created if missing), or `create()`'s value written there
 * first when there is none. With several nodes starting at once, every one gets the one file
 * that won (writeSecretJsonOnce). `created` says whether this call wrote it.
 */
export async function readOrCreateSecretJson(
  file: string,
  label: string,
  create: () => unknown,
): Promise<{ value: unknown; created: boolean }> {
  const folder = path.dirname(file);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing folder's mode alone.
  await chmod(folder, 0o700);
  const existing = await readSecretJson(file, label);
  if (existing !== undefined) {
    await chmod(file, 0o600);
    return { value: existing, created: false };
  }
  await writeSecretJsonOnce(file, await create());
  const written = await readSecretJson(file, label);
  if (written === undefined) throw new Error(`${label} file ${file} vanished after it was written`);
  return { value: written, created: true };
}
