/**
 * Push login (docs/protocol.md section 5) through both screens: the page with the widget in
 * push mode ("Send to my phone") and the wallet simulator paired as a device, each in its own
 * browser context. Locators are the names components/wallet/push-panel.tsx and
 * components/auth/device-security.tsx document, and the widget's documented `data-state`.
 */
import { AxeBuilder } from "@axe-core/playwright";
import type { Locator, Page } from "@playwright/test";
import { expect, getWidget, signInWithWallet, test } from "./support";
import type { Wallet } from "./support";

const CONNECTED = "Connected: waiting for sign-in requests.";

/** axe-core's WCAG 2.1 A and AA violations inside the widget, as e2e/a11y.spec.ts checks whole pages. */
async function widgetViolations(page: Page) {
  const { violations } = await new AxeBuilder({ page })
    .include(".qrl")
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  return violations.map(({ id, help, nodes }) => ({ id, help, targets: nodes.map((node) => node.target.join(" ")) }));
}

/** The simulator's push panel, paired and connected as a device. */
async function pairWallet(wallet: Wallet): Promise<Locator> {
  const panel = wallet.page.getByRole("region", { name: "Push sign-in" });
  await panel.getByRole("button", { name: "Pair this wallet" }).click();
  await expect(panel.getByRole("status", { name: "Device connection" })).toHaveText(CONNECTED, { timeout: 20_000 });
  return panel;
}

/** Opens push mode on the page's widget and sends to `address`; returns the two digits it shows. */
async function sendToPhone(page: Page, address: string): Promise<string> {
  const widget = getWidget(page);
  await widget.getByRole("button", { name: "Send to my phone" }).click();
  // Push mode is a chunk of its own, fetched now.
  await expect(widget).toHaveAttribute("data-mode", "push");
  await expect(widget).toHaveAttribute("data-state", "idle");
  await widget.getByLabel("Wallet address").fill(address);
  await widget.getByRole("button", { name: "Send to my phone" }).click();
  await expect(widget).toHaveAttribute("data-state", /^(pending|fetched)$/);
  const prompt = widget.getByText(/^Type \d{2} on your phone$/);
  await expect(prompt).toBeVisible();
  const matchCode = /\d{2}/.exec((await prompt.textContent()) ?? "")?.[0];
  if (matchCode === undefined) throw new Error("The widget shows no number to type.");
  return matchCode;
}

test("push login: pair the wallet, send to it, type the number, approve; the page is signed in", async ({
  page,
  wallet,
  baseURL,
}) => {
  const host = new URL(baseURL ?? "").host;
  const address = await wallet.readAddress();
  const panel = await pairWallet(wallet);

  await page.goto("/");
  const widget = getWidget(page);
  const matchCode = await sendToPhone(page, address);
  await expect(widget.getByText(/^Sent to 0x[0-9a-fA-F]{4}…[0-9a-fA-F]{4}$/)).toBeVisible();
  expect(await widgetViolations(page)).toEqual([]);

  // The phone shows the request live, with where it comes from; opening it is `fetched` on the page.
  const request = panel.getByRole("region", { name: "Incoming sign-in request" });
  await expect(request).toBeVisible();
  await expect(request.getByTestId("push-domain")).toHaveText(host);
  await expect(widget).toHaveAttribute("data-state", "fetched");
  await expect(widget.getByText("Opened on your phone")).toBeVisible();

  await request.getByLabel("Number shown on the sign-in page").fill(matchCode);
  await request.getByRole("button", { name: "Approve", exact: true }).click();
  await expect(wallet.result("Approved")).toBeVisible();

  await expect(page).toHaveURL("/dashboard");
  await expect(page.getByLabel("Wallet address")).toHaveText(address);
  await expect(page.getByRole("list", { name: "Paired devices" })).toContainText("Wallet simulator");

  // This browser remembers the address of its last sign-in for the next push.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL("/");
  await getWidget(page).getByRole("button", { name: "Send to my phone" }).click();
  const short = `${address.slice(0, 6)}…${address.slice(-4)}`;
  await expect(getWidget(page).getByRole("button", { name: `Continue as ${short}` })).toBeVisible();
  expect(await widgetViolations(page)).toEqual([]);
});

test("“This wasn't me”: the page shows the push denied, and the dashboard lists the report", async ({
  page,
  wallet,
  baseURL,
}) => {
  const host = new URL(baseURL ?? "").host;
  const address = await wallet.readAddress();
  const panel = await pairWallet(wallet);

  await page.goto("/");
  const widget = getWidget(page);
  await sendToPhone(page, address);
  const request = panel.getByRole("region", { name: "Incoming sign-in request" });
  await expect(request).toBeVisible();
  await request.getByRole("button", { name: "This wasn't me" }).click();
  await expect(wallet.result("Reported: this wasn't me")).toBeVisible();

  await expect(widget).toHaveAttribute("data-state", "denied");
  await expect(widget.getByText("Sign-in refused")).toBeVisible();
  await expect(widget.getByText(/Your phone answered “This wasn't me”/)).toBeVisible();
  await expect(page).toHaveURL("/");

  // The person signs in with the QR instead (the device is muted for pushes now) and sees the report.
  await widget.getByRole("button", { name: "Use a QR code instead" }).click();
  await expect(widget).toHaveAttribute("data-mode", "qr");
  await signInWithWallet(widget, wallet, host);
  await expect(page).toHaveURL("/dashboard");
  const events = page.getByRole("list", { name: "Security events" });
  await expect(events).toContainText("“This wasn’t me”: a sign-in request was refused");
  await expect(events).toContainText("on Wallet simulator");
});
