/*
 * The app credentials of the Pusher-compatible API (app id, key, secret).
 *
 * - APP_ID, APP_KEY and APP_SECRET from the environment win. When all three are set,
 *   nothing is read or written on disk.
 * - Otherwise the missing ones come from <dataDir>/keys/pusher-app.json, generated on
 *   the first start (file 0600, folder 0700) and reused afterwards. The file is created
 *   with an exclusive link, so nodes that share a data dir and start together still
 *   end up with one set, and nobody ever reads a half-written file.
 * - Generated: a numeric app id (SDKs such as Pusher.forURL parse it as an integer), a
 *   20-hex-digit key like Pusher's, and a 256-bit secret.
 * - The secret never reaches a log or an error message (nor does the file's content).
 */
import { randomBytes, randomInt } from "node:crypto";
import path from "node:path";
import { z } from "zod";
import type { AppCredentials } from "./signing";
import { readOrCreateSecretJson } from "../secret-files";

export const APP_CREDENTIALS_FILE = path.join("keys", "pusher-app.json");

export const appIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
/** The key prefixes `key:signature`, so it may not hold a colon. */
export const appKeySchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/);
export const appSecretSchema = z.string().min(16).max(256);

const storedSchema = z.object({ appId: appIdSchema, key: appKeySchema, secret: appSecretSchema });

export interface LoadedAppCredentials extends AppCredentials {
  /** Where they came from, for the start-up log line (never the values). */
  source: "env" | "file" | "generated";
}

export async function loadOrCreateAppCredentials(
  dataDir: string,
  fromEnv: { appId?: string; key?: string; secret?: string },
): Promise<LoadedAppCredentials> {
  const { appId, key, secret } = fromEnv;
  if (appId !== undefined && key !== undefined && secret !== undefined) return { appId, key, secret, source: "env" };

  const file = path.join(dataDir, APP_CREDENTIALS_FILE);
  const { value, created } = await readOrCreateSecretJson(file, "app credentials", generateAppCredentials);
  const parsed = storedSchema.safeParse(value);
  if (!parsed.success) throw new Error(`app credentials file ${file} does not hold {appId, key, secret}`);
  const stored = parsed.data;
  const source: LoadedAppCredentials["source"] = created ? "generated" : "file";
  return { appId: appId ?? stored.appId, key: key ?? stored.key, secret: secret ?? stored.secret, source };
}

export function generateAppCredentials(): AppCredentials {
  return {
    appId: String(randomInt(100_000, 10_000_000)),
    key: randomBytes(10).toString("hex"),
    secret: randomBytes(32).toString("hex"),
  };
}
