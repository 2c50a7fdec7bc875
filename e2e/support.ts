/**
 * What the specs share: the two sides of a login (the desktop page with the widget and
 * the simulated phone wallet, each in its own browser context) and the steps between them.
 * Every locator is a role, a label or a text a person reads; the only exceptions are the
 * widget's documented `data-state` and `data-qr` attributes and the wallet's test ids.
 */
import { test as base, expect } from "@playwright/test";
import type { Browser, BrowserContext, Locator, Page } from "@playwright/test";

/** The server whose QR codes expire after `SHORT_TTL_SECONDS` (second webServer in playwright.config.ts). */
export const SHORT_TTL_URL = requireEnv("E2E_SHORT_TTL_URL");
export const SHORT_TTL_SECONDS = Number(requireEnv("E2E_SHORT_TTL_SECONDS"));

/** What the widget's QR code encodes: `<PUBLIC_URL>/api/login/requests/<sessionId>` (docs/protocol.md section 1). */
export const QR_TEXT = /^http:\/\/localhost:\d+\/api\/login\/requests\/[A-Za-z0-9_-]{22}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "")
    throw new Error(`${name} is not set: run the specs through playwright.config.ts.`);
  return value;
}

/** The QR-login widget on a page. */
export function getWidget(page: Page): Locator {
  return page.getByRole("group", { name: "Sign in with your wallet" });
}

/** Waits until the widget shows a code, and returns the exact text it encodes. */
export async function readQrText(widget: Locator): Promise<string> {
  await expect(widget).toHaveAttribute("data-state", "waiting");
  await expect(widget.getByRole("img", { name: /QR code/ })).toBeVisible();
  const code = widget.locator("[data-qr]");
  await expect(code).toHaveAttribute("data-qr", QR_TEXT);
  const qr = await code.getAttribute("data-qr");
  if (qr === null) throw new Error("The widget shows no QR text.");
  return qr;
}

/** After the wallet scanned: the match code the widget asks for ("Choose NN on your phone"). */
export async function readMatchCode(widget: Locator): Promise<string> {
  await expect(widget).toHaveAttribute("data-state", "scanned");
  const prompt = widget.getByText(/^Choose \d{2} on your phone$/);
  await expect(prompt).toBeVisible();
  const matchCode = /\d{2}/.exec((await prompt.textContent()) ?? "")?.[0];
  if (matchCode === undefined) throw new Error("The widget shows no match code.");
  return matchCode;
}

/** The simulated phone: a browser context of its own, so its key and storage are its own. */
export class Wallet {
  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  static async open(browser: Browser, baseURL: string): Promise<Wallet> {
    const context = await browser.newContext({ baseURL, colorScheme: "light" });
    const page = await context.newPage();
    await page.goto("/wallet");
    const wallet = new Wallet(context, page);
    // The key is made or loaded in the browser on first open: slower than a render on a busy machine.
    await expect(wallet.address).toHaveText(ADDRESS, { timeout: 20_000 });
    return wallet;
  }

  /** The wallet's own account address. */
  get address(): Locator {
    return this.page.getByTestId("wallet-address");
  }

  async readAddress(): Promise<string> {
    await expect(this.address).toHaveText(ADDRESS);
    return (await this.address.textContent()) ?? "";
  }

  /** The opened request: who asks, for which site, and the numbers to choose from. */
  get request(): Locator {
    return this.page.getByRole("region", { name: "Sign-in request" });
  }

  /** The domain the opened request says it comes from. */
  get requestDomain(): Locator {
    return this.page.getByTestId("request-domain");
  }

  /** "Scans" a code: pastes its text and opens the request. */
  async scan(qrText: string): Promise<void> {
    await this.page.getByLabel("QR text").fill(qrText);
    await this.page.getByRole("button", { name: "Open login request" }).click();
  }

  /** Scans and waits for the request to be shown. */
  async openRequest(qrText: string): Promise<void> {
    await this.scan(qrText);
    await expect(this.requestDomain).toBeVisible();
  }

  /** The three numbers the request offers. */
  get matchChoices(): Locator {
    return this.request.getByRole("group", { name: "Which number does the sign-in page show?" }).getByRole("button");
  }

  async readMatchChoices(): Promise<string[]> {
    await expect(this.matchChoices).toHaveCount(3);
    return (await this.matchChoices.allTextContents()).map((text) => text.trim());
  }

  async approve(matchCode: string): Promise<void> {
    const choice = this.request
      .getByRole("group", { name: "Which number does the sign-in page show?" })
      .getByRole("button", { name: matchCode, exact: true });
    await choice.click();
    await expect(choice).toHaveAttribute("aria-pressed", "true");
    await this.request.getByRole("button", { name: "Approve", exact: true }).click();
  }

  async deny(): Promise<void> {
    await this.request.getByRole("button", { name: "Deny", exact: true }).click();
  }

  /** The result the wallet shows, by its heading ("Approved", "Denied", "Wrong match code", ...). */
  result(title: string): Locator {
    return this.page.getByRole("heading", { name: title, exact: true });
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

/**
 * The whole login from the desktop's point of view: the wallet scans the widget's code,
 * checks the domain, picks the number the widget shows and approves.
 * Returns the wallet's address.
 */
export async function signInWithWallet(widget: Locator, wallet: Wallet, expectedHost: string): Promise<string> {
  const qr = await readQrText(widget);
  await wallet.openRequest(qr);
  await expect(wallet.requestDomain).toHaveText(expectedHost);
  const matchCode = await readMatchCode(widget);
  expect(await wallet.readMatchChoices()).toContain(matchCode);
  await wallet.approve(matchCode);
  await expect(wallet.result("Approved")).toBeVisible();
  return wallet.readAddress();
}

/**
 * Signs `page` in (to /dashboard) with a wallet of its own holding `privateKey` (an admin's, say):
 * the key is imported into a fresh wallet simulator, which is closed afterwards.
 */
export async function signInWithKey(
  page: Page,
  browser: Browser,
  baseURL: string,
  key: { privateKey: string; address: string },
): Promise<void> {
  const wallet = await Wallet.open(browser, baseURL);
  try {
    await wallet.page.getByText("Import or export a key").click();
    await wallet.page.getByLabel("Private key (hex)").fill(key.privateKey);
    await wallet.page.getByRole("button", { name: "Import key", exact: true }).click();
    await expect(wallet.address).toHaveText(key.address);
    await page.goto("/");
    await signInWithWallet(getWidget(page), wallet, new URL(baseURL).host);
    await page.waitForURL("**/dashboard");
  } finally {
    await wallet.close();
  }
}

/** `test` with a `wallet`: the phone, opened on the same server as the test's `page`, closed after it. */
export const test = base.extend<{ wallet: Wallet }>({
  wallet: async ({ browser, baseURL }, use) => {
    if (baseURL === undefined) throw new Error("The wallet needs a baseURL.");
    const wallet = await Wallet.open(browser, baseURL);
    await use(wallet);
    await wallet.close();
  },
});

export { expect };
