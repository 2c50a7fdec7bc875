/**
 * The README's pictures: the main states of the sign-in, at one viewport, in the light
 * scheme. A test run saves them to test-results/screenshots/ (git-ignored);
 * `npm run screenshots` (UPDATE_SCREENSHOTS=1) replaces the copies in docs/screenshots/.
 */
import path from "node:path";
import type { Page, TestInfo } from "@playwright/test";
import { SHORT_TTL_SECONDS, SHORT_TTL_URL, expect, getWidget, readMatchCode, readQrText, test } from "./support";

test.use({
  viewport: { width: 1100, height: 960 },
  colorScheme: "light",
  locale: "en-US",
  timezoneId: "UTC",
});

async function save(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const root = path.dirname(testInfo.config.configFile ?? path.join(process.cwd(), "playwright.config.ts"));
  const folder =
    process.env.UPDATE_SCREENSHOTS === "1"
      ? path.join(root, "docs", "screenshots")
      : path.join(testInfo.project.outputDir, "screenshots");
  await page.screenshot({
    path: path.join(folder, `${name}.png`),
    animations: "disabled",
    caret: "hide",
  });
}

test("screenshots: waiting, scanned and signed in", async ({ page, wallet }, testInfo) => {
  await page.goto("/");
  const widget = getWidget(page);
  const qr = await readQrText(widget);
  await save(page, testInfo, "waiting");

  await wallet.openRequest(qr);
  const matchCode = await readMatchCode(widget);
  await save(page, testInfo, "scanned");

  await wallet.approve(matchCode);
  await expect(page).toHaveURL("/dashboard");
  await expect(page.getByLabel("Wallet address")).toHaveText(await wallet.readAddress());
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  // The realtime cards connected: this user listed in "Online now".
  await expect(page.getByRole("list", { name: "Online now" }).getByRole("listitem")).toContainText(["(you)"]);
  await save(page, testInfo, "signed-in");
});

test.describe("on the server with short-lived codes", () => {
  test.use({ baseURL: SHORT_TTL_URL });

  test("screenshot: expired", async ({ page }, testInfo) => {
    await page.goto("/");
    const widget = getWidget(page);
    await readQrText(widget);
    // The first expired code is replaced by itself; the second one stays expired.
    await expect(widget).toHaveAttribute("data-state", "expired", { timeout: (2 * SHORT_TTL_SECONDS + 15) * 1000 });
    await expect(widget.getByText("This code has expired")).toBeVisible();
    await expect(widget.getByRole("button", { name: "New code" })).toBeVisible();
    await save(page, testInfo, "expired");

    await widget.getByRole("button", { name: "New code" }).click();
    await readQrText(widget);
  });
});
