/**
 * The demo attestor in the browser (docs/protocol.md section 6): the wallet simulator asks for
 * verified_email with no pasting, an admin approves it on /attestor/admin, the credential reaches
 * the simulator over its channel, and a page that asks for the claim gets it in onLogin after the
 * wallet showed what it would disclose; then the admin revokes it and the next such login is
 * refused (the server runs with STATUS_LIST_TTL_SECONDS=1, so its cached list lapses at once).
 */
import { createWalletKey, importWalletKey } from "../lib/wallet";
import { expect, getWidget, readMatchCode, readQrText, signInWithKey, test } from "./support";

const adminKey = importWalletKey(process.env.E2E_ADMIN_KEY ?? "");

test("the simulator requests verified_email, an admin approves it, a login asking for it gets it, and after a revoke the next is refused", async ({
  page,
  wallet,
  browser,
  baseURL,
}) => {
  // Two browsers, two wallets and three sign-ins: more than the default minute on a busy machine.
  test.setTimeout(180_000);
  const email = `ada-${createWalletKey().address.slice(2, 8).toLowerCase()}@example.com`;
  const credentials = wallet.page.getByRole("region", { name: "Credentials" });
  await credentials.getByLabel(/^member_since/).uncheck();
  await credentials.getByLabel(/^verified_email/).check();
  await credentials.getByLabel("Email to verify").fill(email);
  await credentials.getByRole("button", { name: "Request credential" }).click();
  await expect(wallet.page.getByText("Waiting for an admin to approve it")).toBeVisible({ timeout: 20_000 });

  // The admin works in a browser of their own (the page below signs the wallet's user in),
  // signed in with a wallet holding the admin key.
  const adminContext = await browser.newContext({ baseURL });
  const adminPage = await adminContext.newPage();
  await signInWithKey(adminPage, browser, baseURL ?? "", adminKey);
  await adminPage.goto("/attestor/admin");
  const row = adminPage.getByTestId("attestor-request").filter({ hasText: email });
  await row.getByRole("button", { name: "Approve" }).click();
  await expect(row).toContainText("credential valid");

  await expect(wallet.page.getByText("Received a credential for verified_email.")).toBeVisible({ timeout: 20_000 });
  const kept = credentials.getByTestId("credential");
  await expect(kept).toContainText(email);
  await expect(kept.getByTestId("credential-status")).toHaveText("valid");

  // A page asks for the claim: the wallet shows what it will disclose, and onLogin gets it.
  await page.goto("/embed-demo?claims=verified_email");
  const widget = getWidget(page);
  await wallet.openRequest(await readQrText(widget));
  const matchCode = await readMatchCode(widget);
  await expect(wallet.request.getByTestId("disclosure")).toContainText(email);
  await wallet.approve(matchCode);
  await expect(wallet.result("Approved")).toBeVisible();
  const address = await wallet.readAddress();
  await expect(page.getByText(`Logged in as ${address}`)).toBeVisible();
  const user = JSON.parse((await page.getByLabel("User JSON").textContent()) ?? "") as unknown;
  expect(user).toMatchObject({ address, claims: { verified_email: email } });

  // The admin revokes it: the wallet still presents it, and the server refuses the login.
  try {
    await row.getByRole("button", { name: "Revoke" }).click();
    await expect(row).toContainText("credential revoked");
  } finally {
    await adminContext.close();
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000)); // the verifier's cached list (1 s) lapses
  await wallet.page.getByRole("button", { name: "Scan another code" }).click();
  await page.goto("/embed-demo?claims=verified_email");
  const again = getWidget(page);
  await wallet.openRequest(await readQrText(again));
  const code = await readMatchCode(again);
  await expect(wallet.request.getByTestId("disclosure")).toContainText(email);
  await wallet.approve(code);
  await expect(wallet.result("Login refused")).toBeVisible({ timeout: 20_000 });
});
