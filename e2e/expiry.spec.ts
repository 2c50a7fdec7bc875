import {
  QR_TEXT,
  SHORT_TTL_SECONDS,
  SHORT_TTL_URL,
  expect,
  getWidget,
  readQrText,
  signInWithWallet,
  test,
} from "./support";

// The second server of playwright.config.ts: its codes live SHORT_TTL_SECONDS (10 s).
test.use({ baseURL: SHORT_TTL_URL });

const EXPIRY_WAIT_MS = (SHORT_TTL_SECONDS + 10) * 1000;

test("an expired code is replaced by a new one, which signs in", async ({ page, wallet }) => {
  await page.goto("/");
  const widget = getWidget(page);
  const firstQr = await readQrText(widget);
  await expect(widget.getByRole("timer")).toContainText(/Code expires in 00:(0\d|10)/);

  // Real time passes here: the server ends the session at its expiry and the widget asks for another.
  await expect(widget.locator("[data-qr]")).not.toHaveAttribute("data-qr", firstQr, { timeout: EXPIRY_WAIT_MS });
  const secondQr = await readQrText(widget);
  expect(secondQr).toMatch(QR_TEXT);
  expect(secondQr).not.toBe(firstQr);

  // The old code is dead for the wallet too.
  await wallet.scan(firstQr);
  await expect(wallet.result("QR code expired")).toBeVisible();
  await wallet.page.getByRole("button", { name: "Scan another code" }).click();

  const address = await signInWithWallet(widget, wallet, new URL(SHORT_TTL_URL).host);
  await expect(page).toHaveURL("/dashboard");
  await expect(page.getByLabel("Wallet address")).toHaveText(address);
});
