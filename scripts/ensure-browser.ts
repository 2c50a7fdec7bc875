/**
 * Finds the Chromium the e2e run drives, before the build, so a missing browser
 * stops the run at once with one message instead of failing every spec.
 *
 * In this order, the first that starts wins:
 *   1. PLAYWRIGHT_CHROMIUM_PATH, when set (and then only it: a path you named that does
 *      not start is an error, never silently replaced);
 *   2. a Chromium or Chrome already on the machine (PATH, then the usual install paths);
 *   3. the Chromium Playwright already downloaded;
 *   4. `npx playwright install chromium` (Playwright's own download);
 *   5. on Debian or Ubuntu as root, where that download is refused: the distribution's
 *      package through apt-get (after apt-get update).
 * Each candidate is launched once headless, so a browser that is there but cannot run
 * (missing libraries, a snap outside its sandbox) is skipped with its reason.
 *
 * The choice is written to `.e2e-browser.json` (git-ignored), which playwright.config.ts
 * reads; PLAYWRIGHT_CHROMIUM_PATH still overrides it there.
 *
 *   node --import tsx scripts/ensure-browser.ts     choose, print why, write the file; exit 1 if none
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isMainModule, repoRootOf } from "./main-module";

/** Where the choice is handed to playwright.config.ts. */
export const CHOICE_FILE = ".e2e-browser.json";

export type BrowserSource = "env" | "system" | "playwright" | "playwright-install" | "apt";

export interface ChosenBrowser {
  executablePath: string;
  source: BrowserSource;
  /** One sentence: why this one. */
  reason: string;
}

export type BrowserChoice =
  | ({ ok: true } & ChosenBrowser)
  | {
      ok: false;
      /** One line per step taken, in order, with what came of it. */
      tried: string[];
      /** The one command that fixes it. */
      fix: string;
    };

/** What came of a step that runs a command. */
export type StepOutcome = { ok: true } | { ok: false; reason: string };

export interface LinuxDistro {
  /** `ID` of /etc/os-release ("debian", "ubuntu", ...). */
  id: string;
  /** `ID_LIKE`, split on spaces. */
  idLike: string[];
}

/** Everything the choice looks at or does, injected so each branch can be tested. */
export interface BrowserLookups {
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  home: string;
  /** The first executable of that name on PATH. */
  findOnPath(name: string): string | undefined;
  /** Whether a file exists there and may be executed. */
  isExecutable(file: string): boolean;
  /** Where Playwright keeps (or would keep) its own Chromium. */
  playwrightExecutablePath(): string | undefined;
  /** Starts the browser headless and closes it; the reason when it does not start. */
  launch(executablePath: string): Promise<StepOutcome>;
  /** `npx playwright install chromium`. */
  playwrightInstall(): Promise<StepOutcome>;
  /** The Linux distribution, from /etc/os-release; undefined elsewhere. */
  linuxDistro(): LinuxDistro | undefined;
  isRoot(): boolean;
  /** `apt-get update`, then `apt-get install -y <pkg>`. */
  aptInstall(pkg: string): Promise<StepOutcome>;
  /** Progress lines (a step that takes a while says so before it starts) and the choice. */
  log(line: string): void;
  /** The failure message. */
  logError(message: string): void;
}

/** Names a Chromium or Chrome goes by on PATH. */
export const PATH_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"];

/** The usual install paths, per platform; `~` is the home folder. */
export function getInstallPaths(platform: NodeJS.Platform, home: string): string[] {
  if (platform === "darwin") {
    const apps = [
      "Google Chrome.app/Contents/MacOS/Google Chrome",
      "Chromium.app/Contents/MacOS/Chromium",
      "Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing",
      "Google Chrome Canary.app/Contents/MacOS/Google Chrome Canary",
    ];
    return [...apps.map((app) => `/Applications/${app}`), ...apps.map((app) => path.join(home, "Applications", app))];
  }
  if (platform === "linux") {
    return [
      "/usr/bin/chromium",
      "/usr/bin/chromium-browser",
      "/usr/lib/chromium/chromium",
      "/snap/bin/chromium",
      "/usr/bin/google-chrome",
      "/usr/bin/google-chrome-stable",
      "/opt/google/chrome/chrome",
    ];
  }
  return [];
}

/** Debian's package is `chromium`; Ubuntu ships it as `chromium-browser`. */
export function getAptPackage(distro: LinuxDistro | undefined): string | undefined {
  if (distro === undefined) return undefined;
  if (distro.id === "ubuntu" || (distro.id !== "debian" && distro.idLike.includes("ubuntu"))) return "chromium-browser";
  if (distro.id === "debian" || distro.idLike.includes("debian")) return "chromium";
  return undefined;
}

const FIX_WITH_PATH = "PLAYWRIGHT_CHROMIUM_PATH=/path/to/chrome npm run test:e2e";

/** Goes through the candidates in order and returns the first that starts, or what was tried. */
export async function chooseBrowser(lookups: BrowserLookups): Promise<BrowserChoice> {
  const tried: string[] = [];
  const named = lookups.env.PLAYWRIGHT_CHROMIUM_PATH;

  if (named !== undefined && named !== "") {
    if (!lookups.isExecutable(named)) {
      tried.push(`PLAYWRIGHT_CHROMIUM_PATH=${named}: no executable file there`);
      return { ok: false, tried, fix: "unset PLAYWRIGHT_CHROMIUM_PATH && npm run test:e2e" };
    }
    const started = await lookups.launch(named);
    if (!started.ok) {
      tried.push(`PLAYWRIGHT_CHROMIUM_PATH=${named}: does not start (${started.reason})`);
      return { ok: false, tried, fix: "unset PLAYWRIGHT_CHROMIUM_PATH && npm run test:e2e" };
    }
    return { ok: true, executablePath: named, source: "env", reason: "PLAYWRIGHT_CHROMIUM_PATH is set" };
  }
  tried.push("PLAYWRIGHT_CHROMIUM_PATH: not set");

  // 2. Already on the machine: PATH first (what the user runs), then the usual places.
  const seen = new Set<string>();
  const candidates: Array<{ file: string; where: string }> = [];
  for (const name of PATH_NAMES) {
    const file = lookups.findOnPath(name);
    if (file !== undefined) candidates.push({ file, where: `\`${name}\` on PATH` });
  }
  for (const file of getInstallPaths(lookups.platform, lookups.home)) {
    if (lookups.isExecutable(file)) candidates.push({ file, where: "a usual install path" });
  }
  let systemFound = false;
  for (const { file, where } of candidates) {
    if (seen.has(file)) continue;
    seen.add(file);
    systemFound = true;
    const started = await lookups.launch(file);
    if (started.ok) {
      return { ok: true, executablePath: file, source: "system", reason: `found as ${where}` };
    }
    tried.push(`${file} (${where}): does not start (${started.reason})`);
  }
  if (!systemFound) tried.push("Chromium or Chrome on PATH or in the usual install paths: none found");

  // 3. and 4. Playwright's own Chromium: already downloaded, or downloaded now.
  const own = lookups.playwrightExecutablePath();
  if (own !== undefined && lookups.isExecutable(own)) {
    const started = await lookups.launch(own);
    if (started.ok) {
      return { ok: true, executablePath: own, source: "playwright", reason: "Playwright's Chromium is installed" };
    }
    tried.push(`Playwright's Chromium ${own}: does not start (${started.reason})`);
  } else {
    tried.push("Playwright's Chromium: not installed");
  }

  lookups.log("No browser found: downloading Playwright's Chromium (npx playwright install chromium) ...");
  const installed = await lookups.playwrightInstall();
  if (installed.ok) {
    const after = lookups.playwrightExecutablePath();
    if (after !== undefined && lookups.isExecutable(after)) {
      const started = await lookups.launch(after);
      if (started.ok) {
        return {
          ok: true,
          executablePath: after,
          source: "playwright-install",
          reason: "downloaded with `npx playwright install chromium`",
        };
      }
      tried.push(`npx playwright install chromium: installed, but it does not start (${started.reason})`);
    } else {
      tried.push("npx playwright install chromium: finished, but no Chromium is where Playwright looks");
    }
  } else {
    tried.push(`npx playwright install chromium: failed (${installed.reason})`);
  }

  // 5. The distribution's package, where the download is refused.
  const pkg = lookups.platform === "linux" ? getAptPackage(lookups.linuxDistro()) : undefined;
  if (pkg === undefined) {
    tried.push("apt-get: not a Debian or Ubuntu machine");
    return { ok: false, tried, fix: FIX_WITH_PATH };
  }
  if (!lookups.isRoot()) {
    tried.push(`apt-get install ${pkg}: needs root`);
    return { ok: false, tried, fix: `sudo apt-get update && sudo apt-get install -y ${pkg}` };
  }
  lookups.log(`Installing the distribution's ${pkg} (apt-get update && apt-get install -y ${pkg}) ...`);
  const fromApt = await lookups.aptInstall(pkg);
  if (!fromApt.ok) {
    tried.push(`apt-get install -y ${pkg}: failed (${fromApt.reason})`);
    return { ok: false, tried, fix: FIX_WITH_PATH };
  }
  const aptFiles = [lookups.findOnPath(pkg), ...getInstallPaths("linux", lookups.home)].filter(
    (file): file is string => file !== undefined && lookups.isExecutable(file),
  );
  const aptFile = aptFiles[0];
  if (aptFile === undefined) {
    tried.push(`apt-get install -y ${pkg}: installed, but no browser is on PATH or in the usual paths`);
    return { ok: false, tried, fix: FIX_WITH_PATH };
  }
  const started = await lookups.launch(aptFile);
  if (!started.ok) {
    tried.push(`apt-get install -y ${pkg}: installed ${aptFile}, but it does not start (${started.reason})`);
    return { ok: false, tried, fix: FIX_WITH_PATH };
  }
  return {
    ok: true,
    executablePath: aptFile,
    source: "apt",
    reason: `Playwright's download was refused; installed the distribution's ${pkg} with apt-get`,
  };
}

/** The one message for a failed choice: what was tried, and the command that fixes it. */
export function formatFailure(choice: Extract<BrowserChoice, { ok: false }>): string {
  return [
    "The e2e tests need Chromium or Chrome, and none could be found or installed. Tried:",
    ...choice.tried.map((line) => `  - ${line}`),
    "Fix it with:",
    `  ${choice.fix}`,
  ].join("\n");
}

export function formatChoice(choice: ChosenBrowser): string {
  return `e2e browser: ${choice.executablePath} (${choice.reason})`;
}

/** The first line of a message, without Playwright's log blocks and ANSI colours, at most 200 characters. */
export function summarize(text: string): string {
  // eslint-disable-next-line no-control-regex
  const plain = text.replace(/\u001b\[[0-9;]*m/g, "");
  const line = plain
    .split("\n")
    .map((part) => part.trim())
    .find((part) => part !== "" && !/^=+/.test(part));
  const first = line ?? "no output";
  return first.length > 200 ? `${first.slice(0, 197)}...` : first;
}

/** Runs a command, its output kept (not shown); resolves with how it ended. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<StepOutcome> {
  return new Promise((resolve) => {
    let output = "";
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)));
    child.stderr.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)));
    child.on("error", (error) => resolve({ ok: false, reason: error.message }));
    child.on("close", (code) => {
      if (code === 0) return resolve({ ok: true });
      // The most telling line is usually the last error line, not the first progress line.
      const lines = output.split("\n").filter((line) => /error|fail|refused|not found|unable/i.test(line));
      resolve({ ok: false, reason: summarize(lines.at(-1) ?? output.split("\n").at(-2) ?? `exit code ${code}`) });
    });
  });
}

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function readLinuxDistro(): LinuxDistro | undefined {
  let text: string;
  try {
    text = fs.readFileSync("/etc/os-release", "utf8");
  } catch {
    return undefined;
  }
  const field = (name: string) =>
    new RegExp(`^${name}=("?)([^"\\n]*)\\1$`, "m").exec(text)?.[2]?.trim().toLowerCase() ?? "";
  return { id: field("ID"), idLike: field("ID_LIKE").split(/\s+/).filter(Boolean) };
}

/** The real lookups of this machine. */
export async function getSystemLookups(): Promise<BrowserLookups> {
  const { chromium } = await import("@playwright/test");
  const pathDirs = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean);
  return {
    env: process.env,
    platform: process.platform,
    home: os.homedir(),
    findOnPath: (name) => pathDirs.map((dir) => path.join(dir, name)).find(isExecutableFile),
    isExecutable: isExecutableFile,
    playwrightExecutablePath: () => {
      try {
        return chromium.executablePath();
      } catch {
        return undefined;
      }
    },
    launch: async (executablePath) => {
      try {
        const browser = await chromium.launch({ executablePath, headless: true, timeout: 60_000 });
        await browser.close();
        return { ok: true };
      } catch (error) {
        return { ok: false, reason: summarize(error instanceof Error ? error.message : String(error)) };
      }
    },
    // The project's own Playwright CLI, as `npx playwright install chromium` runs it.
    playwrightInstall: () =>
      run(process.execPath, [fileURLToPath(import.meta.resolve("@playwright/test/cli")), "install", "chromium"]),
    linuxDistro: () => (process.platform === "linux" ? readLinuxDistro() : undefined),
    isRoot: () => process.getuid?.() === 0,
    aptInstall: async (pkg) => {
      const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
      const updated = await run("apt-get", ["update", "-qq"], env);
      if (!updated.ok) return { ok: false, reason: `apt-get update: ${updated.reason}` };
      return run("apt-get", ["install", "-y", "-qq", pkg], env);
    },
    log: (line) => console.log(line),
    logError: (message) => console.error(message),
  };
}

/** Chooses, prints why, and writes the choice for playwright.config.ts; false when there is none. */
export async function ensureBrowser(root: string, lookups: BrowserLookups): Promise<boolean> {
  const file = path.join(root, CHOICE_FILE);
  const choice = await chooseBrowser(lookups);
  if (!choice.ok) {
    lookups.logError(formatFailure(choice));
    return false;
  }
  const { executablePath, source, reason } = choice;
  fs.writeFileSync(file, `${JSON.stringify({ executablePath, source, reason }, null, 2)}\n`);
  lookups.log(formatChoice(choice));
  return true;
}

if (isMainModule(import.meta.url)) {
  const root = repoRootOf(import.meta.url);
  getSystemLookups()
    .then((lookups) => ensureBrowser(root, lookups))
    .then(
      (isReady) => process.exit(isReady ? 0 : 1),
      (error: unknown) => {
        // Not expected (each step reports its own failure); still one line, no stack.
        console.error(`ensure-browser: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
}
