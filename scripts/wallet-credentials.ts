/**
 * The wallet CLI's credentials (docs/protocol.md section 6): `request-credential` asks the app's
 * attestor and waits for the encrypted delivery; `credentials` lists them with their claims,
 * issuer and status, or deletes one. They are kept in `<DATA_DIR>/wallet-cli-credentials.json`
 * (0600, the CLI's development wallet); `login` presents the first one holding the claims a
 * site asks for.
 */
import { chmod, mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { readFileIfExists } from "../server/secret-files";
import {
  WalletError,
  readCredentialInfo,
  readCredentialState,
  requestCredential,
  type WalletKey,
} from "../lib/wallet/index";

export const CREDENTIALS_FILE = "wallet-cli-credentials.json";

const storedSchema = z.array(
  z.object({ id: z.string(), credential: z.string(), issuer: z.string(), receivedAt: z.string() }),
);
export type StoredCredential = z.infer<typeof storedSchema>[number];

export async function readCredentials(dataDir: string): Promise<StoredCredential[]> {
  const file = join(dataDir, CREDENTIALS_FILE);
  const text = await readFileIfExists(file);
  if (text === undefined) return [];
  const parsed = storedSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new WalletError("invalid_credential", `${file} is not a list of credentials.`);
  return parsed.data;
}

async function writeCredentials(dataDir: string, list: StoredCredential[]): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, CREDENTIALS_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(list, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

export async function runRequestCredential(input: {
  endpoint: string;
  key: WalletKey;
  claims: string[];
  email?: string;
  timeoutSeconds: number;
  dataDir: string;
  out: (line: string) => void;
}): Promise<void> {
  input.out(`Asking ${input.endpoint}/attestor for ${input.claims.join(", ")} as ${input.key.address}...`);
  const received = await requestCredential({
    endpoint: input.endpoint,
    key: input.key,
    claims: input.claims,
    ...(input.email === undefined ? {} : { email: input.email }),
    timeoutMs: input.timeoutSeconds * 1000,
    onRequested: (request) => {
      if (request.status === "pending") {
        input.out(`Request ${request.id} waits for an admin's approval (${input.endpoint}/attestor/admin); waiting...`);
      }
    },
  });
  const info = await readCredentialInfo(received.credential);
  const list = (await readCredentials(input.dataDir)).filter((item) => item.id !== received.requestId);
  list.push({
    id: received.requestId,
    credential: received.credential,
    issuer: received.issuer,
    receivedAt: new Date().toISOString(),
  });
  await writeCredentials(input.dataDir, list);
  input.out(`Received credential ${received.requestId} from ${received.issuer}: ${JSON.stringify(info.claims)}`);
  input.out(`Saved in ${join(input.dataDir, CREDENTIALS_FILE)}; login presents it when a site asks for these claims.`);
}

export async function runCredentials(input: {
  dataDir: string;
  deleteId?: string;
  out: (line: string) => void;
}): Promise<void> {
  const list = await readCredentials(input.dataDir);
  if (input.deleteId !== undefined) {
    const kept = list.filter((item) => item.id !== input.deleteId);
    if (kept.length === list.length) throw new WalletError("not_found", `No credential ${input.deleteId}.`);
    await writeCredentials(input.dataDir, kept);
    input.out(`Deleted credential ${input.deleteId}.`);
    return;
  }
  if (list.length === 0) {
    input.out("No credentials. Ask for one: npm run wallet -- request-credential --claim member_since");
    return;
  }
  for (const item of list) {
    try {
      const info = await readCredentialInfo(item.credential);
      const state = await readCredentialState(info);
      input.out(`${item.id}  ${state}`);
      input.out(`  issuer:  ${info.issuer}`);
      input.out(`  claims:  ${JSON.stringify(info.claims)}`);
      input.out(`  expires: ${info.expiresAt ?? "never"}  (received ${item.receivedAt})`);
    } catch {
      input.out(`${item.id}  unreadable (not an SD-JWT VC)`);
    }
  }
}
