/**
 * The simulated phone wallet on the command line, and a demo that plays the browser.
 *
 * The CLI's key is a plain file, `<DATA_DIR or .data>/wallet-cli-key.json`, readable
 * by its owner alone: it is a development wallet, never one for real funds.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline/promises";
import qrcode from "qrcode-terminal";
import { LoginClientError, createLoginClient } from "../lib/client/login-client";
import { matchCodeSchema } from "../lib/protocol/login-schemas";
import {
  WalletError,
  approveLogin,
  createWalletKey,
  denyLogin,
  fetchLoginRequest,
  importWalletKey,
} from "../lib/wallet/index";
import type { WalletKey } from "../lib/wallet/index";
import { UsageError, parseCommandLine, usageFailure } from "./cli-args";
import type { CliValues } from "./cli-args";

const USAGE = `Usage: npm run wallet -- <command> [options]

Commands:
  login <qr text> [--match <code>] [--key <hex>]
                        fetch the login request behind a QR (the browser then shows
                        its match code), ask which code it shows (or take --match),
                        check it against the choices, sign the EIP-4361 message, approve
  deny <qr text>        refuse the login request behind a QR
  demo [--endpoint <url>] [--auto]
                        play the browser: start a login, show its QR and match code,
                        wait for approval and redeem it; --auto also plays the wallet
                        with a fresh key, so one command shows the whole flow
  key [--key <hex>]     print the wallet's address

Options:
  --key <hex>           sign with this private key instead of the CLI's own
                        (kept in <DATA_DIR or .data>/wallet-cli-key.json)
  --match <code>        the two-digit code the browser shows
  --endpoint <url>      the app's origin (default: PUBLIC_URL, else http://localhost:3000)
  --auto                (demo) approve with a fresh key as well
  -h, --help            show this text

Exit codes: 0 done, 1 refused or failed (the protocol's error code is printed), 2 usage.`;

const CLI = {
  usage: USAGE,
  options: {
    key: { type: "string" },
    match: { type: "string" },
    endpoint: { type: "string" },
    auto: { type: "boolean" },
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
  console.log(`Match codes: ${request.matchChoices.join("  ")}`);
  if (request.requiredClaims.length > 0) {
    // Sending without them would only burn the QR: the server allows one try.
    throw new WalletError(
      "claims_missing",
      `This login needs verifiable claims (${request.requiredClaims.join(", ")}), which the CLI cannot present.`,
    );
  }
  // The browser shows its code once the request is fetched (scanned), so a person
  // usually learns it only now: ask, unless --match was given.
  const matchCode = options.match ?? (await askMatchCode(request.matchChoices));
  if (!request.matchChoices.includes(matchCode)) {
    throw new WalletError(
      "wrong_match_code",
      `${matchCode} is not among the codes offered; check the code your browser shows. Nothing was signed.`,
    );
  }
  await approveLogin({ key, request, matchCode });
  console.log(`Approved: the browser is signing in as ${key.address}.`);
}

async function askMatchCode(choices: string[]): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError("login needs --match <code> when it cannot ask (no terminal).");
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await prompt.question(`Which code does the browser show (${choices.join(" / ")})? `)).trim();
  } finally {
    prompt.close();
  }
}

async function runDeny(qrText: string): Promise<void> {
  const request = await fetchLoginRequest(qrText);
  await denyLogin(request);
  console.log(`Denied the login to ${request.appName} (${request.domain}).`);
}

async function runDemo(options: CliOptions): Promise<void> {
  const endpoint = options.endpoint ?? process.env.PUBLIC_URL ?? "http://localhost:3000";
  const client = createLoginClient({ endpoint });
  try {
    client.onState((event) => console.log(`State: ${event.state}${event.reason ? ` (${event.reason})` : ""}`));
    // A browser would keep retrying; on the command line a dead endpoint should fail at once.
    const unreachable = new Promise<never>((_resolve, reject) => {
      client.socket.once("connect_error", (error) => {
        reject(new LoginClientError("network_error", `Could not connect to ${endpoint}: ${error.message}`));
      });
    });
    const session = await Promise.race([client.start(), unreachable]);
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
      await approveLogin({ key, request, matchCode: session.matchCode });
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

/** The --key given, else the CLI's own key, created on first use. */
async function loadKey(keyHex: string | undefined): Promise<WalletKey> {
  if (keyHex !== undefined) return importWalletKey(keyHex);
  const dataDir = process.env.DATA_DIR ?? ".data";
  const file = join(dataDir, "wallet-cli-key.json");
  try {
    return importWalletKey(readKeyFile(await readFile(file, "utf8"), file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const key = createWalletKey();
  await mkdir(dataDir, { recursive: true });
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
