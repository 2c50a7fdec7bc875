import jsQR from "jsqr";
import { PNG } from "pngjs";
import type { Locator, Page } from "@playwright/test";
import { QR_TEXT, expect, getWidget, readMatchCode, readQrText, signInWithWallet, test } from "./support";

/** The `<time>` beside a term of the dashboard's details list ("First login", "Last login"). */
function detail(page: Page, term: string): Locator {
  return page.getByRole("term").filter({ hasText: term }).locator("xpath=following-sibling::dd[1]");
}

async function readTime(definition: Locator): Promise<number> {
  const time = definition.locator("time");
  await expect(time).toHaveAttribute("datetime", /^\d{4}-\d\d-\d\dT/);
  return Date.parse((await time.getAttribute("datetime")) ?? "");
}

test("a wallet signs in: scan, check the domain, match the number, approve, land on the dashboard", async ({
  page,
  wallet,
  baseURL,
}) => {
  const startedAt = Date.now();
  const host = new URL(baseURL ?? "").host;
  await page.goto("/");
  const widget = getWidget(page);
  const qr = await readQrText(widget);
  await expect(widget.getByRole("timer")).toContainText(/Code expires in \d\d:\d\d/);

  await wallet.openRequest(qr);
  await expect(wallet.requestDomain).toHaveText(host);
  await expect(wallet.request.getByText("Wallet Login", { exact: true })).toBeVisible();
  await expect(wallet.request.getByText("Sign in to Wallet Login")).toBeVisible();

  const matchCode = await readMatchCode(widget);
  const choices = await wallet.readMatchChoices();
  expect(new Set(choices).size).toBe(3);
  expect(choices).toContain(matchCode);
  await wallet.approve(matchCode);
  await expect(wallet.result("Approved")).toBeVisible();
  await expect(wallet.page.getByText(`You are signed in on ${host}.`)).toBeVisible();

  await expect(page).toHaveURL("/dashboard");
  await expect(page.getByRole("heading", { name: "You're signed in" })).toBeVisible();
  await expect(page.getByLabel("Wallet address")).toHaveText(await wallet.readAddress());
  const firstLogin = await readTime(detail(page, "First login"));
  const lastLogin = await readTime(detail(page, "Last login"));
  // The server's clock is this machine's; allow for the seconds the stored times are rounded to.
  for (const time of [firstLogin, lastLogin]) {
    expect(time).toBeGreaterThanOrEqual(startedAt - 1000);
    expect(time).toBeLessThanOrEqual(Date.now() + 1000);
  }
  expect(lastLogin).toBeGreaterThanOrEqual(firstLogin);
});

test("the QR code on screen decodes to exactly the widget's QR text", async ({ page }) => {
  await page.goto("/");
  const widget = getWidget(page);
  const qr = await readQrText(widget);
  expect(qr).toMatch(QR_TEXT);

  const png = PNG.sync.read(await widget.getByRole("img", { name: /QR code/ }).screenshot());
  const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  expect(decoded?.data).toBe(qr);
});

test("the wallet denies: the page says the sign-in was refused", async ({ page, wallet }) => {
  await page.goto("/");
  const widget = getWidget(page);
  const deniedQr = await readQrText(widget);
  await wallet.openRequest(deniedQr);
  await readMatchCode(widget);

  await wallet.deny();
  await expect(wallet.result("Denied")).toBeVisible();
  await expect(widget).toHaveAttribute("data-state", "denied");
  await expect(widget.getByText("Sign-in refused")).toBeVisible();
  await expect(widget.getByText("The sign-in was declined in the wallet.")).toBeVisible();
  await expect(widget.getByRole("img", { name: /QR code/ })).toHaveCount(0);
  await expect(page).toHaveURL("/");

  // One try per code: the next attempt gets a new one.
  await widget.getByRole("button", { name: "Try again" }).click();
  expect(await readQrText(widget)).not.toBe(deniedQr);
});

test("a wrong match code ends the login on both screens", async ({ page, wallet }) => {
  await page.goto("/");
  const widget = getWidget(page);
  await wallet.openRequest(await readQrText(widget));
  const matchCode = await readMatchCode(widget);
  const wrongCode = (await wallet.readMatchChoices()).find((choice) => choice !== matchCode);
  if (wrongCode === undefined) throw new Error("The wallet offers no other number.");

  await wallet.approve(wrongCode);
  await expect(wallet.result("Wrong match code")).toBeVisible();
  await expect(wallet.page.getByText("The code did not match the one on the sign-in page")).toBeVisible();
  await expect(widget).toHaveAttribute("data-state", "denied");
  await expect(widget.getByText("Sign-in refused")).toBeVisible();
  await expect(widget.getByText("The wrong number was chosen on the phone.")).toBeVisible();
  await expect(page).toHaveURL("/");
});

test("the dashboard survives a reload, and Sign out ends the session", async ({ page, wallet, baseURL }) => {
  await page.goto("/");
  const address = await signInWithWallet(getWidget(page), wallet, new URL(baseURL ?? "").host);
  await expect(page).toHaveURL("/dashboard");
  await expect(page.getByLabel("Wallet address")).toHaveText(address);

  const refreshCookie = async () =>
    (await page.context().cookies()).find((cookie) => cookie.path === "/api/auth" && cookie.httpOnly);
  expect(await refreshCookie()).toMatchObject({ sameSite: "Lax" });

  // The access token lived in memory only: after a reload the refresh cookie brings the session back.
  await page.reload();
  await expect(page.getByLabel("Wallet address")).toHaveText(address);
  await expect(page).toHaveURL("/dashboard");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL("/");
  await expect(getWidget(page)).toBeVisible();
  expect(await refreshCookie()).toBeUndefined();

  await page.goto("/dashboard");
  await expect(page).toHaveURL("/");
  await expect(getWidget(page)).toHaveAttribute("data-state", "waiting");
});

test("the embed demo hands the user to its onLogin", async ({ page, wallet, baseURL }) => {
  await page.goto("/embed-demo");
  await expect(page.getByText("Nothing yet")).toBeVisible();
  const address = await signInWithWallet(getWidget(page), wallet, new URL(baseURL ?? "").host);

  await expect(page.getByText(`Logged in as ${address}`)).toBeVisible();
  const user = JSON.parse((await page.getByLabel("User JSON").textContent()) ?? "") as unknown;
  expect(user).toMatchObject({ address, id: expect.any(String) as unknown, claims: {} });
  await expect(getWidget(page)).toHaveAttribute("data-state", "signed-in");
  await expect(getWidget(page).getByText("Signed in")).toBeVisible();
  // The demo stays where it is: what happens next is the embedding page's business.
  await expect(page).toHaveURL("/embed-demo");
});

test("Copy link copies the QR text; Cancel ends the login for the wallet too", async ({ page, wallet, baseURL }) => {
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  await page.goto("/");
  const widget = getWidget(page);
  const qr = await readQrText(widget);

  await widget.getByRole("button", { name: "Copy link" }).click();
  await expect(widget.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(qr);

  await widget.getByRole("button", { name: "Cancel" }).click();
  await expect(widget).toHaveAttribute("data-state", "cancelled");
  await expect(widget.getByText("Sign-in cancelled")).toBeVisible();
  await expect(widget.getByRole("img", { name: /QR code/ })).toHaveCount(0);

  // A code given up on the page is refused by the server, not left open for its lifetime.
  await wallet.scan(qr);
  await expect(wallet.result("Login already finished")).toBeVisible();

  await widget.getByRole("button", { name: "Start again" }).click();
  const newQr = await readQrText(widget);
  expect(newQr).not.toBe(qr);
});
