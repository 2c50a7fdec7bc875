import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CHOICE_FILE, chooseBrowser, ensureBrowser, formatFailure } from "./ensure-browser";
import type { BrowserLookups, StepOutcome } from "./ensure-browser";

const PLAYWRIGHT_OWN = "/root/.cache/ms-playwright/chromium-1/chrome-linux64/chrome";

interface Machine {
  env?: Record<string, string>;
  platform?: NodeJS.Platform;
  /** name -> path of what is on PATH */
  onPath?: Record<string, string>;
  /** executable files on disk (PATH entries are added) */
  files?: string[];
  /** paths that exist but do not start, with why */
  broken?: Record<string, string>;
  /** what the Playwright download does: "refused", or adds its Chromium */
  download?: "refused" | "works";
  distro?: { id: string; idLike: string[] };
  isRoot?: boolean;
  /** what apt-get does: "fails", or installs /usr/bin/chromium */
  apt?: "fails" | "works";
}

/** A pretend machine, and the record of every step the choice took on it. */
function makeMachine(machine: Machine) {
  const files = new Set([...(machine.files ?? []), ...Object.values(machine.onPath ?? {})]);
  const onPath = new Map(Object.entries(machine.onPath ?? {}));
  const steps: string[] = [];
  const lookups: BrowserLookups = {
    env: machine.env ?? {},
    platform: machine.platform ?? "linux",
    home: "/home/me",
    findOnPath: (name) => onPath.get(name),
    isExecutable: (file) => files.has(file),
    playwrightExecutablePath: () => PLAYWRIGHT_OWN,
    launch: async (file): Promise<StepOutcome> => {
      steps.push(`launch ${file}`);
      const why = machine.broken?.[file];
      return why === undefined ? { ok: true } : { ok: false, reason: why };
    },
    playwrightInstall: async () => {
      steps.push("playwright install");
      if (machine.download !== "works") return { ok: false, reason: "getaddrinfo ENOTFOUND" };
      files.add(PLAYWRIGHT_OWN);
      return { ok: true };
    },
    linuxDistro: () => machine.distro,
    isRoot: () => machine.isRoot ?? false,
    aptInstall: async (pkg) => {
      steps.push(`apt ${pkg}`);
      if (machine.apt !== "works") return { ok: false, reason: "E: Unable to locate package" };
      files.add("/usr/bin/chromium");
      onPath.set("chromium", "/usr/bin/chromium");
      return { ok: true };
    },
    log: (line) => steps.push(`log ${line}`),
    logError: (message) => steps.push(`error ${message}`),
  };
  return { lookups, steps };
}

const DEBIAN = { id: "debian", idLike: [] };

describe("chooseBrowser", () => {
  it("takes PLAYWRIGHT_CHROMIUM_PATH first, over a browser on PATH", async () => {
    const { lookups, steps } = makeMachine({
      env: { PLAYWRIGHT_CHROMIUM_PATH: "/opt/my/chrome" },
      files: ["/opt/my/chrome"],
      onPath: { chromium: "/usr/bin/chromium" },
    });
    expect(await chooseBrowser(lookups)).toMatchObject({ ok: true, executablePath: "/opt/my/chrome", source: "env" });
    expect(steps).toEqual(["launch /opt/my/chrome"]);
  });

  it("stops at a PLAYWRIGHT_CHROMIUM_PATH that is not there, rather than quietly using another browser", async () => {
    const { lookups, steps } = makeMachine({
      env: { PLAYWRIGHT_CHROMIUM_PATH: "/nope/chrome" },
      onPath: { chromium: "/usr/bin/chromium" },
    });
    const choice = await chooseBrowser(lookups);
    expect(choice).toEqual({
      ok: false,
      tried: ["PLAYWRIGHT_CHROMIUM_PATH=/nope/chrome: no executable file there"],
      fix: "unset PLAYWRIGHT_CHROMIUM_PATH && npm run test:e2e",
    });
    expect(steps).toEqual([]);
  });

  it("takes a Chromium on PATH before the install paths and Playwright's own", async () => {
    const { lookups, steps } = makeMachine({
      onPath: { "google-chrome-stable": "/usr/local/bin/google-chrome-stable" },
      files: ["/usr/bin/chromium", PLAYWRIGHT_OWN],
    });
    expect(await chooseBrowser(lookups)).toMatchObject({
      ok: true,
      executablePath: "/usr/local/bin/google-chrome-stable",
      source: "system",
      reason: "found as `google-chrome-stable` on PATH",
    });
    expect(steps).toEqual(["launch /usr/local/bin/google-chrome-stable"]);
  });

  it("finds Google Chrome in /Applications on macOS", async () => {
    const chrome = "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome";
    const { lookups } = makeMachine({ platform: "darwin", files: [chrome] });
    expect(await chooseBrowser(lookups)).toMatchObject({ ok: true, executablePath: chrome, source: "system" });
  });

  it("finds Chromium in the user's ~/Applications on macOS", async () => {
    const chromium = "/home/me/Applications/Chromium.app/Contents/MacOS/Chromium";
    const { lookups } = makeMachine({ platform: "darwin", files: [chromium] });
    expect(await chooseBrowser(lookups)).toMatchObject({ ok: true, executablePath: chromium, source: "system" });
  });

  it("skips a browser that is there but does not start, and says why", async () => {
    const { lookups, steps } = makeMachine({
      files: ["/snap/bin/chromium", PLAYWRIGHT_OWN],
      broken: { "/snap/bin/chromium": "snap-confine has elevated permissions" },
      download: "refused",
    });
    expect(await chooseBrowser(lookups)).toMatchObject({
      ok: true,
      executablePath: PLAYWRIGHT_OWN,
      source: "playwright",
    });
    expect(steps).toEqual(["launch /snap/bin/chromium", `launch ${PLAYWRIGHT_OWN}`]);
  });

  it("takes the Chromium Playwright already downloaded, without downloading again", async () => {
    const { lookups, steps } = makeMachine({ files: [PLAYWRIGHT_OWN] });
    expect(await chooseBrowser(lookups)).toMatchObject({ ok: true, source: "playwright" });
    expect(steps).not.toContain("playwright install");
  });

  it("downloads Playwright's Chromium when nothing is on the machine", async () => {
    const { lookups, steps } = makeMachine({ download: "works", distro: DEBIAN, isRoot: true, apt: "works" });
    expect(await chooseBrowser(lookups)).toMatchObject({
      ok: true,
      executablePath: PLAYWRIGHT_OWN,
      source: "playwright-install",
    });
    expect(steps.filter((step) => !step.startsWith("log"))).toEqual(["playwright install", `launch ${PLAYWRIGHT_OWN}`]);
  });

  it("installs Debian's chromium with apt-get as root when the download is refused", async () => {
    const { lookups, steps } = makeMachine({ download: "refused", distro: DEBIAN, isRoot: true, apt: "works" });
    expect(await chooseBrowser(lookups)).toMatchObject({
      ok: true,
      executablePath: "/usr/bin/chromium",
      source: "apt",
      reason: "Playwright's download was refused; installed the distribution's chromium with apt-get",
    });
    expect(steps.filter((step) => !step.startsWith("log"))).toEqual([
      "playwright install",
      "apt chromium",
      "launch /usr/bin/chromium",
    ]);
  });

  it("asks apt-get for chromium-browser on Ubuntu", async () => {
    const { lookups, steps } = makeMachine({
      distro: { id: "ubuntu", idLike: ["debian"] },
      isRoot: true,
      apt: "works",
    });
    expect(await chooseBrowser(lookups)).toMatchObject({ ok: true, source: "apt" });
    expect(steps).toContain("apt chromium-browser");
  });

  it("on Debian without root: says what it tried and that sudo apt-get fixes it", async () => {
    const { lookups, steps } = makeMachine({ distro: DEBIAN, isRoot: false });
    const choice = await chooseBrowser(lookups);
    expect(choice).toEqual({
      ok: false,
      tried: [
        "PLAYWRIGHT_CHROMIUM_PATH: not set",
        "Chromium or Chrome on PATH or in the usual install paths: none found",
        "Playwright's Chromium: not installed",
        "npx playwright install chromium: failed (getaddrinfo ENOTFOUND)",
        "apt-get install chromium: needs root",
      ],
      fix: "sudo apt-get update && sudo apt-get install -y chromium",
    });
    expect(steps).not.toContain("apt chromium");
  });

  it("when apt-get fails too, or elsewhere than Debian, the fix is to name a browser", async () => {
    const debian = makeMachine({ distro: DEBIAN, isRoot: true, apt: "fails" });
    const onDebian = await chooseBrowser(debian.lookups);
    expect(onDebian).toMatchObject({ ok: false, fix: "PLAYWRIGHT_CHROMIUM_PATH=/path/to/chrome npm run test:e2e" });
    expect(onDebian.ok ? [] : onDebian.tried).toContain(
      "apt-get install -y chromium: failed (E: Unable to locate package)",
    );

    const mac = makeMachine({ platform: "darwin" });
    const onMac = await chooseBrowser(mac.lookups);
    expect(onMac).toMatchObject({ ok: false, fix: "PLAYWRIGHT_CHROMIUM_PATH=/path/to/chrome npm run test:e2e" });
    expect(onMac.ok ? [] : onMac.tried.at(-1)).toBe("apt-get: not a Debian or Ubuntu machine");
  });

  it("formats a failure as one message: every step tried, then the fix", () => {
    const message = formatFailure({ ok: false, tried: ["a: no", "b: no"], fix: "do this" });
    expect(message).toBe(
      [
        "The e2e tests need Chromium or Chrome, and none could be found or installed. Tried:",
        "  - a: no",
        "  - b: no",
        "Fix it with:",
        "  do this",
      ].join("\n"),
    );
  });
});

describe("ensureBrowser", () => {
  it("writes the choice for playwright.config.ts, and nothing when there is none", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "ensure-browser-"));
    try {
      const found = makeMachine({ onPath: { chromium: "/usr/bin/chromium" } });
      expect(await ensureBrowser(root, found.lookups)).toBe(true);
      expect(JSON.parse(fs.readFileSync(path.join(root, CHOICE_FILE), "utf8"))).toEqual({
        executablePath: "/usr/bin/chromium",
        source: "system",
        reason: "found as `chromium` on PATH",
      });

      const empty = fs.mkdtempSync(path.join(os.tmpdir(), "ensure-browser-"));
      const none = makeMachine({ platform: "win32" });
      expect(await ensureBrowser(empty, none.lookups)).toBe(false);
      expect(fs.readdirSync(empty)).toEqual([]);
      fs.rmdirSync(empty);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("run as a script, a missing browser ends it with exit code 1 and the one message, no stack trace", () => {
    const script = fileURLToPath(new URL("./ensure-browser.ts", import.meta.url));
    const result = spawnSync(process.execPath, ["--import", "tsx", script], {
      env: { ...process.env, PLAYWRIGHT_CHROMIUM_PATH: "/nonexistent/chrome" },
      encoding: "utf8",
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim()).toBe(
      [
        "The e2e tests need Chromium or Chrome, and none could be found or installed. Tried:",
        "  - PLAYWRIGHT_CHROMIUM_PATH=/nonexistent/chrome: no executable file there",
        "Fix it with:",
        "  unset PLAYWRIGHT_CHROMIUM_PATH && npm run test:e2e",
      ].join("\n"),
    );
  });
});
