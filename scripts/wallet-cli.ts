/**
 * The simulated phone wallet on the command line, and a demo that plays the browser.
 *
 * The CLI's key is a plain file, `<DATA_DIR or .data>/wallet-cli-key.json`, readable
 * by its owner alone: it is a development wallet, never one for real funds. Its verifiable
 * credential (docs/protocol.md section 4), if it has one, is `wallet-cli-credential.txt` beside it,
 * issued by `attest` with the development attestor a dev server keeps in the same folder.
 * `request-credential` keeps what the app's attestor issues in `wallet-cli-credentials.json`
 * (scripts/wallet-credentials.ts), which `login` presents first.
 * `pair` records the device it paired in `wallet-cli-devices.json` beside it (site, address and
 * device id: not a secret, the key is what authenticates), which `listen` connects as.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline/promises";
import qrcode from "qrcode-terminal";
import { z } from "zod";
import { issueCredential, presentCredential } from "../lib/claims/credentials";
import { privateKeyHexOf, publicJwkOf } from "../lib/claims/es256k";
import type { LoginRequest } from "../lib/protocol/login";
import { DEV_ATTESTOR_FILE, readDevAttestor } from "../server/claims/attestors";
import { readFileIfExists } from "../server/secret-files";
import { LoginClientError, createLoginClient } from "../lib/client/login-client";
import { claimNameSchema, matchCodeSchema } from "../lib/protocol/login-schemas";
import { deviceNameSchema } from "../lib/protocol/push";
import type { PushClosedEvent, PushRequest } from "../lib/protocol/push";
import {
  WalletError,
  approveLogin,
  connectDevice,
  createWalletKey,
  denyLogin,
  describePushClosed,
  fetchLoginRequest,
  importWalletKey,
  pairDevice,
  pickCredentialFor,
  presentRequiredClaims,
  readTypedMatchCode,
} from "../lib/wallet/index";
import type { DeviceConnection, WalletKey } from "../lib/wallet/index";
import { UsageError, parseCommandLine, usageFailure } from "./cli-args";
import { readCredentials, runCredentials, runRequestCredential } from "./wallet-credentials";
import type { CliValues } from "./cli-args";

const USAGE = `Usage: npm run wallet -- <command> [options]

Commands:
  login <qr text> [--match <code>] [--key <hex>] [--credential <file>]
                        fetch the login request behind a QR (the browser then shows
                        its match code), ask which code it shows (or take --match),
                        check it against the choices, sign the EIP-4361 message, approve;
                        a request for claims is answered from the wallet's credential
  deny <qr text>        refuse the login request behind a QR
  demo [--endpoint <url>] [--auto] [--claim <name=value>...]
                        play the browser: start a login, show its QR and match code,
                        wait for approval and redeem it; --auto also plays the wallet
                        with a fresh key, so one command shows the whole flow; --claim
                        asks for that claim (--auto attests the value given)
  attest --claim <name=value> [--claim ...] [--key <hex>]
                        have the development attestor (a dev server creates it in
                        <DATA_DIR>/keys/dev-attestor.json) issue the wallet a credential
                        holding these claims, printed, and saved as
                        <DATA_DIR>/wallet-cli-credential.txt (not with --key: the
                        simulator's key, say, whose credential is only printed)
  key [--key <hex>]     print the wallet's address
  request-credential --claim <name> [--claim ...] [--email <address>] [--endpoint <url>] [--key <hex>] [--timeout <s>]
                        ask the app's demo attestor for claims (member_since;
                        verified_email with --email, which waits for an admin on
                        /attestor/admin), wait for the credential on the wallet's own
                        channel (encrypted to a key made for it), check and keep it
  credentials [--delete <id>]
                        list the kept credentials with their issuer, claims and status
                        (valid, expired, revoked, suspended), or delete one
  pair [--name <name>] [--endpoint <url>] [--key <hex>]
                        pair this wallet's key as a device of its address for push
                        login (signs the server's challenge); remembered for listen
  listen [--endpoint <url>] [--key <hex>] [--device <id>] [--number <NN> | --deny | --not-me] [--once]
                        stay connected as the paired device and print each sign-in
                        request with its context (app, site, origin, browser and OS,
                        IP and whether it matches this device's, time); then ask for
                        the number the sign-in page shows, d to deny or n for "This
                        wasn't me" (read from stdin, one line per request)

Options:
  --key <hex>           sign with this private key instead of the CLI's own
                        (kept in <DATA_DIR or .data>/wallet-cli-key.json)
  --match <code>        the two-digit code the browser shows
  --endpoint <url>      the app's origin (default: PUBLIC_URL, else http://localhost:3000)
  --auto                (demo) approve with a fresh key as well
  --name <name>         (pair) the device's name, 1-64 characters (default "Wallet")
  --device <id>         (listen) the device id to connect as (default: the one pair saved)
  --number <NN>         (listen) approve every request with this number, without asking
  --deny, --not-me      (listen) deny every request, or answer "This wasn't me", without asking
  --once                (listen) exit after the first request ends (0 if answered as asked)
  --claim <name=value>  a claim (repeatable); the value is JSON if it parses (true, 18), else text
  --credential <file>   (login) present this SD-JWT VC instead of the wallet's saved one
  --email <address>     (request-credential) the email to have verified
  --timeout <s>         (request-credential) how long to wait for the credential (default 600)
  --delete <id>         (credentials) delete this credential
  -h, --help            show this text

Exit codes: 0 done, 1 refused or failed (the protocol's error code is printed), 2 usage.`;

const CLI = {
  usage: USAGE,
  options: {
    key: { type: "string" },
    match: { type: "string" },
    endpoint: { type: "string" },
    auto: { type: "boolean" },
    claim: { type: "string", multiple: true },
    credential: { type: "string" },
    name: { type: "string" },
    device: { type: "string" },
    number: { type: "string" },
    deny: { type: "boolean" },
    "not-me": { type: "boolean" },
    once: { type: "boolean" },
    email: { type: "string" },
    timeout: { type: "string" },
    delete: { type: "string" },
  },
  noCommandMessage: "No command given.",
  out: (text: string) => console.log(text),
  err: (text: string) => console.error(text),
} as const;

type CliOptions = CliValues<typeof CLI.options>;

async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv, CLI);
  if (parsed.exitCode !== undefined) return parsed.exitCode;
  const { command, args, options } = parsed;

  try {
    switch (command) {
      case "login":
        await runLogin(requireOneArg(args, "login <qr text>"), options);
        return 0;
      case "deny":
        await runDeny(requireOneArg(args, "deny <qr text>"));
        return 0;
      case "demo":
        if (args.length > 0) throw new UsageError("demo takes no arguments besides its options.");
        await runDemo(options);
        return 0;
      case "attest":
        if (args.length > 0) throw new UsageError("attest takes no arguments besides its options.");
        await runAttest(options);
        return 0;
      case "pair":
        if (args.length > 0) throw new UsageError("pair takes no arguments besides its options.");
        await runPair(options);
        return 0;
      case "listen":
        if (args.length > 0) throw new UsageError("listen takes no arguments besides its options.");
        return await runListen(options);
      case "request-credential":
        if (args.length > 0) throw new UsageError("request-credential takes no arguments besides its options.");
        await runRequestCredential({
          endpoint: endpointOf(options),
          key: await loadKey(options.key),
          claims: parseClaimNames(options.claim),
          ...(options.email === undefined ? {} : { email: options.email }),
          timeoutSeconds: parseTimeout(options.timeout),
          dataDir: dataDir(),
          out: CLI.out,
        });
        return 0;
      case "credentials":
        if (args.length > 0) throw new UsageError("credentials takes no arguments besides --delete.");
        await runCredentials({
          dataDir: dataDir(),
          ...(options.delete === undefined ? {} : { deleteId: options.delete }),
          out: CLI.out,
        });
        return 0;
      case "key":
        if (args.length > 0) throw new UsageError("key takes no arguments besides --key.");
        console.log((await loadKey(options.key)).address);
        return 0;
      default:
        throw new UsageError(`Unknown command "${command}".`);
    }
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(CLI, error.message);
    if (error instanceof WalletError || error instanceof LoginClientError) {
      const status = error.status === undefined ? "" : `, HTTP ${error.status}`;
      console.error(`Error (${error.code}${status}): ${error.message}`);
      return 1;
    }
    console.error(`Error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

async function runLogin(qrText: string, options: CliOptions): Promise<void> {
  if (options.match !== undefined && !matchCodeSchema.safeParse(options.match).success) {
    throw new UsageError(`--match takes a two-digit code from 10 to 99, not "${options.match}".`);
  }
  const request = await fetchLoginRequest(qrText);
  const key = await loadKey(options.key);
  console.log(`${request.appName} (${request.domain}) asks you to sign in.`);
  console.log(`Account:     ${key.address}`);
  const isTyped = request.matchMode === "type";
  console.log(
    isTyped ? "Match code:  type the number the browser shows" : `Match codes: ${request.matchChoices.join("  ")}`,
  );
  // Checked before anything is signed: a refused answer burns the QR (the server allows one try).
  const presentation = await presentationFor(request, key, options.credential);
  // The browser shows its code once the request is fetched (scanned), so a person
  // usually learns it only now: ask, unless --match was given.
  const answered = options.match ?? (await askMatchCode(request.matchChoices));
  // QR_MATCH_MODE=type offers no choices: the typed number goes as it is (a wrong one ends the login).
  const matchCode = isTyped ? readTypedMatchCode(answered) : answered;
  if (!isTyped && !request.matchChoices.includes(matchCode)) {
    throw new WalletError(
      "wrong_match_code",
      `${matchCode} is not among the codes offered; check the code your browser shows. Nothing was signed.`,
    );
  }
  await approveLogin({ key, request, matchCode, ...(presentation ? { presentation } : {}) });
  console.log(`Approved: the browser is signing in as ${key.address}.`);
}

async function askMatchCode(choices: string[]): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError("login needs --match <code> when it cannot ask (no terminal).");
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const offered = choices.length > 0 ? ` (${choices.join(" / ")})` : "";
    return (await prompt.question(`Which code does the browser show${offered}? `)).trim();
  } finally {
    prompt.close();
  }
}

async function runDeny(qrText: string): Promise<void> {
  const request = await fetchLoginRequest(qrText);
  await denyLogin(request);
  console.log(`Denied the login to ${request.appName} (${request.domain}).`);
}

/** The presentation a request for claims needs, from the given or saved credential; undefined when none is asked for. */
async function presentationFor(
  request: LoginRequest,
  key: WalletKey,
  credentialFile: string | undefined,
): Promise<string | undefined> {
  if (request.requiredClaims.length === 0) return undefined;
  console.log(`Asks for:    ${request.requiredClaims.join(", ")} (verifiable claims)`);
  if (credentialFile === undefined) {
    const kept = await pickCredentialFor(await readCredentials(dataDir()), request.requiredClaims);
    if (kept) {
      console.log(`Presenting:  ${request.requiredClaims.join(", ")} from credential ${kept.id} (${kept.issuer})`);
      return presentRequiredClaims({ credential: kept.credential, request, key });
    }
  }
  const file = credentialFile ?? join(dataDir(), CREDENTIAL_FILE);
  let credential: string;
  try {
    credential = (await readFile(file, "utf8")).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    throw new WalletError(
      "claims_missing",
      `This login needs verifiable claims, no kept credential holds them and ${file} does not exist: run npm run wallet -- request-credential --claim <name> (or attest --claim <name=value>) first. Nothing was signed.`,
    );
  }
  return presentRequiredClaims({ credential, request, key });
}

/** `name=value` options as claims; a value that parses as JSON (true, 18, "x") is taken as that. */
function parseClaimOptions(values: string[] | undefined): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const option of values ?? []) {
    const at = option.indexOf("=");
    const name = at === -1 ? "" : option.slice(0, at);
    if (!claimNameSchema.safeParse(name).success) {
      throw new UsageError(`--claim takes name=value with a name of 1-64 of A-Z a-z 0-9 _ . : -, not "${option}".`);
    }
    const text = option.slice(at + 1);
    try {
      claims[name] = JSON.parse(text) as unknown;
    } catch {
      claims[name] = text;
    }
  }
  return claims;
}

/** A credential for `key` from the development attestor in DATA_DIR. */
async function attestWithDevAttestor(key: WalletKey, claims: Record<string, unknown>): Promise<string> {
  const attestor = await readDevAttestor(dataDir());
  if (!attestor) {
    throw new WalletError(
      "invalid_key",
      `No development attestor in ${join(dataDir(), DEV_ATTESTOR_FILE)}: start the dev server once (npm run dev), or any server with DEV_ATTESTOR=true and this DATA_DIR.`,
    );
  }
  return issueCredential({
    issuer: { iss: attestor.iss, privateKeyHex: privateKeyHexOf(attestor.jwk) },
    holderJwk: publicJwkOf(key.privateKey),
    claims,
  });
}

async function runAttest(options: CliOptions): Promise<void> {
  const claims = parseClaimOptions(options.claim);
  if (Object.keys(claims).length === 0) throw new UsageError("attest needs at least one --claim <name=value>.");
  const key = await loadKey(options.key);
  const credential = await attestWithDevAttestor(key, claims);
  console.log(`Attested ${Object.keys(claims).join(", ")} for ${key.address} (development attestor).`);
  if (options.key === undefined) {
    // The CLI's own wallet keeps it; a credential for another key (--key) is only printed.
    const file = join(dataDir(), CREDENTIAL_FILE);
    await mkdir(dataDir(), { recursive: true });
    await writeFile(file, `${credential}\n`, { mode: 0o600 });
    console.log(`Saved the credential in ${file}; login presents it when a site asks for these claims.`);
  }
  console.log(`Credential (paste it into the wallet simulator holding this key):\n${credential}`);
}

async function runDemo(options: CliOptions): Promise<void> {
  const endpoint = endpointOf(options);
  const client = createLoginClient({ endpoint });
  try {
    client.onState((event) => console.log(`State: ${event.state}${event.reason ? ` (${event.reason})` : ""}`));
    // A browser would keep retrying; on the command line a dead endpoint should fail at once.
    const unreachable = new Promise<never>((_resolve, reject) => {
      client.socket.once("connect_error", (error) => {
        reject(new LoginClientError("network_error", `Could not connect to ${endpoint}: ${error.message}`));
      });
    });
    const claims = parseClaimOptions(options.claim);
    const requiredClaims = Object.keys(claims);
    const session = await Promise.race([
      client.start(requiredClaims.length > 0 ? { requiredClaims } : {}),
      unreachable,
    ]);
    console.log(`Scan this with the wallet, or run: npm run wallet -- login '${session.qr}'\n`);
    console.log(await renderQr(session.qr));
    console.log(`QR text:    ${session.qr}`);
    console.log(`Match code: ${session.matchCode}`);
    console.log(`Expires at: ${session.expiresAt}\n`);

    // Wait on the session's own expiry, with a margin for the server's expired push.
    const timeoutMs = Math.max(0, Date.parse(session.expiresAt) - Date.now()) + 5_000;
    const approved = client.waitForState(["approved"], { timeoutMs });
    if (options.auto) {
      const key = createWalletKey();
      console.log(`Wallet (auto): signing in as ${key.address}`);
      const request = await fetchLoginRequest(session.qr);
      let presentation: string | undefined;
      if (requiredClaims.length > 0) {
        const credential = await attestWithDevAttestor(key, claims);
        presentation = await presentCredential({
          credential,
          disclose: requiredClaims,
          nonce: request.nonce,
          aud: request.uri,
          privateKeyHex: key.privateKey,
        });
      }
      await approveLogin({ key, request, matchCode: session.matchCode, ...(presentation ? { presentation } : {}) });
    }
    await approved;
    const { accessToken, tokenType, expiresIn, user } = await client.redeem();
    console.log(`\nSigned in as ${user.address} (user ${user.id}).`);
    if (Object.keys(user.claims).length > 0) console.log(`Claims: ${JSON.stringify(user.claims)}`);
    console.log(`Access token (${tokenType}, ${expiresIn} s): ${shorten(accessToken)}`);
  } finally {
    client.close();
  }
}

function endpointOf(options: CliOptions): string {
  return options.endpoint ?? process.env.PUBLIC_URL ?? "http://localhost:3000";
}

async function runPair(options: CliOptions): Promise<void> {
  const endpoint = endpointOf(options);
  if (options.name !== undefined && !deviceNameSchema.safeParse(options.name).success) {
    throw new UsageError("--name takes 1 to 64 characters.");
  }
  const key = await loadKey(options.key);
  const device = await pairDevice({ endpoint, key, ...(options.name === undefined ? {} : { name: options.name }) });
  await saveDevice({ endpoint: new URL(endpoint).origin, address: device.address, deviceId: device.id });
  console.log(`Paired ${device.address} with ${new URL(endpoint).host} as "${device.name}" (device ${device.id}).`);
  console.log("Run npm run wallet -- listen to wait for sign-in requests.");
}

async function runListen(options: CliOptions): Promise<number> {
  const answers = [options.number !== undefined, options.deny === true, options["not-me"] === true];
  if (answers.filter(Boolean).length > 1) throw new UsageError("Give at most one of --number, --deny and --not-me.");
  if (options.number !== undefined && !matchCodeSchema.safeParse(options.number).success) {
    throw new UsageError(`--number takes the two digits the sign-in page shows (10 to 99), not "${options.number}".`);
  }
  const endpoint = endpointOf(options);
  const key = await loadKey(options.key);
  const deviceId = options.device ?? (await savedDeviceId(new URL(endpoint).origin, key.address));
  const fixed: PushAnswer | undefined =
    options.number !== undefined
      ? { kind: "approve", number: options.number }
      : options.deny
        ? { kind: "deny" }
        : options["not-me"]
          ? { kind: "not-me" }
          : undefined;
  const listener = new PushListener(endpoint, key, deviceId, fixed, options.once === true);
  return listener.run();
}

type PushAnswer = { kind: "approve"; number: string } | { kind: "deny" } | { kind: "not-me" };

/** `listen`: one request shown at a time (a newer push supersedes an older one anyway). */
class PushListener {
  private connection: DeviceConnection | undefined;
  private prompt: ReturnType<typeof createInterface> | undefined;
  private current: PushRequest | null = null;
  private readonly answering = new Set<string>();
  private readonly seen = new Set<string>();
  private failed = false;
  private finish: (code: number) => void = () => undefined;

  constructor(
    private readonly endpoint: string,
    private readonly key: WalletKey,
    private readonly deviceId: string,
    private readonly fixed: PushAnswer | undefined,
    private readonly once: boolean,
  ) {}

  async run(): Promise<number> {
    const done = new Promise<number>((resolve) => {
      this.finish = resolve;
    });
    let wasConnected = false;
    let hasWarned = false;
    const connection = connectDevice({
      endpoint: this.endpoint,
      key: this.key,
      deviceId: this.deviceId,
      onRequest: (push) => void this.show(push.sessionId),
      onClosed: (event) => this.closed(event),
      onStatus: (status, detail) => {
        if (status === "connected" && detail.device) {
          const { name, id } = detail.device;
          console.log(
            wasConnected
              ? "Reconnected."
              : `Listening for sign-in requests to ${this.key.address} on ${new URL(this.endpoint).host} as "${name}" (device ${id}). Ctrl+C to stop.`,
          );
          wasConnected = true;
        } else if (status === "unpaired" && wasConnected) {
          console.error("Error (device_not_found): this device was unpaired; run npm run wallet -- pair again.");
          this.finish(1);
        } else if (status === "disconnected" && detail.error && !hasWarned) {
          // Once until the next connection: socket.io-client keeps trying.
          console.error(`Not connected (${detail.error.code}): ${detail.error.message} Retrying.`);
          hasWarned = true;
        }
        if (status === "connected") hasWarned = false;
      },
    });
    this.connection = connection;
    try {
      await connection.ready;
      if (!this.fixed) {
        this.prompt = createInterface({ input: process.stdin });
        this.prompt.on("line", (line) => void this.typed(line));
        this.prompt.on("close", () => this.finish(this.failed ? 1 : 0));
      }
      process.once("SIGINT", () => this.finish(this.failed ? 1 : 0));
      return await done;
    } finally {
      this.prompt?.close();
      connection.close();
    }
  }

  private async show(sessionId: string) {
    // Each socket gets a push once, a new socket after a reconnect gets it again: once is shown.
    if (this.seen.has(sessionId)) return;
    this.seen.add(sessionId);
    let request: PushRequest;
    try {
      request = await this.connection!.open(sessionId);
    } catch (error) {
      this.report(error);
      return;
    }
    const c = request.context;
    const ip = c.ip === null ? "unknown" : `${c.ip} (${c.ipMatches ? "matches this device's" : "NOT this device's"})`;
    console.log(`\nSign-in request from ${request.appName} (${request.domain})`);
    console.log(`  Account:  ${request.address}`);
    console.log(`  Origin:   ${c.origin ?? "unknown"}`);
    console.log(`  Browser:  ${c.browser} on ${c.os}`);
    console.log(`  IP:       ${ip}`);
    console.log(`  Time:     ${c.time}`);
    console.log(`  Expires:  ${request.expirationTime}`);
    if (request.matchMode === "choose") console.log(`  Choices:  ${(request.matchChoices ?? []).join("  ")}`);
    this.current = request;
    if (this.fixed) await this.answer(request, this.fixed);
    else console.log(`Type the number the sign-in page shows, d to deny, or n for "This wasn't me":`);
  }

  private async typed(line: string) {
    const request = this.current;
    if (request === null) return;
    const text = line.trim().toLowerCase();
    if (/^\d\d$/.test(text)) await this.answer(request, { kind: "approve", number: text });
    else if (text === "d" || text === "deny") await this.answer(request, { kind: "deny" });
    else if (text === "n" || text === "not me") await this.answer(request, { kind: "not-me" });
    else console.log("Type the two digits, d or n.");
  }

  private async answer(request: PushRequest, answer: PushAnswer) {
    const connection = this.connection!;
    this.current = null;
    this.answering.add(request.sessionId);
    try {
      if (answer.kind === "approve") {
        await connection.approve(request, answer.number);
        console.log(`Approved: the browser is signing in as ${request.address}.`);
      } else {
        await connection.deny(request.sessionId, { notMe: answer.kind === "not-me" });
        console.log(
          answer.kind === "deny"
            ? "Denied."
            : "Reported: this wasn't me. The login was denied, pushes to this device pause for a while, and your dashboard lists the report.",
        );
      }
    } catch (error) {
      this.report(error);
    }
    if (this.once) this.finish(this.failed ? 1 : 0);
  }

  private closed(event: PushClosedEvent) {
    if (this.answering.has(event.sessionId) || this.current?.sessionId !== event.sessionId) return;
    this.current = null;
    console.log(
      `The request ended before an answer (${event.state}${event.reason ? `, ${event.reason}` : ""}). ${describePushClosed(event)}`,
    );
    if (this.once) this.finish(1);
  }

  private report(error: unknown) {
    this.failed = true;
    const code = error instanceof WalletError ? error.code : "unexpected";
    console.error(`Error (${code}): ${error instanceof Error ? error.message : String(error)}`);
  }
}

const DEVICES_FILE = "wallet-cli-devices.json";
const savedDevicesSchema = z.array(
  z.object({ endpoint: z.string(), address: z.string(), deviceId: z.string() }).strict(),
);
type SavedDevice = z.infer<typeof savedDevicesSchema>[number];

async function readSavedDevices(): Promise<SavedDevice[]> {
  const file = join(dataDir(), DEVICES_FILE);
  const text = await readFileIfExists(file);
  if (text === undefined) return [];
  try {
    return savedDevicesSchema.parse(JSON.parse(text));
  } catch {
    throw new WalletError("invalid_response", `${file} is not a device list; delete it and pair again.`);
  }
}

async function saveDevice(device: SavedDevice): Promise<void> {
  const same = (d: SavedDevice) =>
    d.endpoint === device.endpoint && d.address.toLowerCase() === device.address.toLowerCase();
  const devices = [...(await readSavedDevices()).filter((d) => !same(d)), device];
  await mkdir(dataDir(), { recursive: true });
  await writeFile(join(dataDir(), DEVICES_FILE), `${JSON.stringify(devices, null, 2)}\n`, { mode: 0o600 });
}

async function savedDeviceId(endpoint: string, address: string): Promise<string> {
  const saved = (await readSavedDevices()).find(
    (d) => d.endpoint === endpoint && d.address.toLowerCase() === address.toLowerCase(),
  );
  if (!saved) {
    throw new WalletError(
      "device_not_found",
      `${address} is not paired with ${endpoint} here: run npm run wallet -- pair first (or give --device <id>).`,
    );
  }
  return saved.deviceId;
}

function renderQr(text: string): Promise<string> {
  return new Promise((resolve) => qrcode.generate(text, { small: true }, resolve));
}

function shorten(token: string): string {
  return token.length <= 24 ? token : `${token.slice(0, 12)}…${token.slice(-8)} (${token.length} chars)`;
}

function requireOneArg(args: string[], usage: string): string {
  const [arg, ...rest] = args;
  if (arg === undefined || rest.length > 0) throw new UsageError(`Usage: npm run wallet -- ${usage}`);
  return arg;
}

const CREDENTIAL_FILE = "wallet-cli-credential.txt";

/** request-credential's --claim: plain names. */
function parseClaimNames(values: string[] | undefined): string[] {
  const names = values ?? [];
  if (names.length === 0) throw new UsageError("request-credential needs at least one --claim <name>.");
  for (const name of names) {
    if (!claimNameSchema.safeParse(name).success) {
      throw new UsageError(`--claim takes a claim name here (e.g. member_since), not "${name}".`);
    }
  }
  return names;
}

function parseTimeout(value: string | undefined): number {
  if (value === undefined) return 600;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86_400) {
    throw new UsageError(`--timeout takes whole seconds from 1 to 86400, not "${value}".`);
  }
  return seconds;
}

function dataDir(): string {
  return process.env.DATA_DIR ?? ".data";
}

/** The --key given, else the CLI's own key, created on first use. */
async function loadKey(keyHex: string | undefined): Promise<WalletKey> {
  if (keyHex !== undefined) return importWalletKey(keyHex);
  const file = join(dataDir(), "wallet-cli-key.json");
  try {
    return importWalletKey(readKeyFile(await readFile(file, "utf8"), file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const key = createWalletKey();
  await mkdir(dataDir(), { recursive: true });
  try {
    // "wx": if another run created it meanwhile, use that one rather than overwrite it.
    await writeFile(file, `${JSON.stringify({ address: key.address, privateKey: key.privateKey }, null, 2)}\n`, {
      mode: 0o600,
      flag: "wx",
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return loadKey(undefined);
    throw error;
  }
  console.error(`Created a wallet key in ${file} (${key.address}).`);
  return key;
}

function readKeyFile(text: string, file: string): string {
  try {
    const { privateKey } = JSON.parse(text) as { privateKey?: unknown };
    if (typeof privateKey === "string") return privateKey;
  } catch {
    // Reported below together with a missing field.
  }
  throw new WalletError("invalid_key", `${file} holds no privateKey; delete it to get a new key.`);
}

process.exitCode = await main(process.argv.slice(2));
