/**
 * The demo attestor in the browser (docs/protocol.md section 6): the wallet simulator asks for
 * verified_email with no pasting, an admin approves it on /attestor/admin, the credential reaches
 * the simulator over its channel, and a page that asks for the claim gets it in onLogin after the
 * wallet showed what it would disclose.
 */
import { createWalletKey, importWalletKey } from "../lib/wallet";
import { Wallet, expect, getWidget, readMatchCode, readQrText, signInWithWallet, test } from "./support";

const adminKey = importWalletKey(process.env.E2E_ADMIN_KEY ?? "");

test("the simulator requests verified_email, an admin approves it, and a login asking for it gets it", async ({
  page,
  wallet,
  browser,
  baseURL,
}) => {
  const email = `ada-${createWalletKey().address.slice(2, 8).toLowerCase()}@example.com`;
  const credentials = wallet.page.getByRole("region", { name: "Credentials" });
  await credentials.getByLabel(/^member_since/).uncheck();
  await credentials.getByLabel(/^verified_email/).check();
  await credentials.getByLabel("Email to verify").fill(email);
  await credentials.getByRole("button", { name: "Request credential" }).click();
  await expect(wallet.page.getByText("Waiting for an admin to approve it")).toBeVisible({ timeout: 20_000 });

  // The admin signs in on the desktop with a wallet holding the admin key, then approves.
  const adminWallet = await Wallet.open(browser, baseURL ?? "");
  try {
    await adminWallet.page.getByText("Import or export a key").click();
    await adminWallet.page.getByLabel("Private key (hex)").fill(adminKey.privateKey);
    await adminWallet.page.getByRole("button", { name: "Import key", exact: true }).click();
    await expect(adminWallet.address).toHaveText(adminKey.address);
    await page.goto("/");
    await signInWithWallet(getWidget(page), adminWallet, new URL(baseURL ?? "").host);
    await page.waitForURL("**/dashboard");
  } finally {
    await adminWallet.close();
  }
  await page.goto("/attestor/admin");
  const row = page.getByTestId("attestor-request").filter({ hasText: email });
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
});
