/**
 * Verifiable claims in the browser (docs/protocol.md section 4): the embed demo asks for a claim,
 * the wallet simulator presents a credential issued to its key by the attestor the server
 * trusts (playwright.config.ts), and the page's onLogin receives the disclosed claim only.
 */
import { issueCredential } from "../lib/claims/credentials";
import { privateKeyHexOf, publicJwkOf, type Secp256k1PrivateJwk } from "../lib/claims/es256k";
import { createWalletKey } from "../lib/wallet";
import { expect, getWidget, readMatchCode, readQrText, test } from "./support";

const attestor = {
  iss: process.env.E2E_ATTESTOR_ISS ?? "",
  privateKeyHex: privateKeyHexOf(JSON.parse(process.env.E2E_ATTESTOR_JWK ?? "{}") as Secp256k1PrivateJwk),
};

test("a login that asks for a claim is approved with a credential and hands over only that claim", async ({
  page,
  wallet,
}) => {
  // The simulator signs with a key the test knows, so the credential can be issued to it.
  const key = createWalletKey();
  await wallet.page.getByText("Import or export a key").click();
  await wallet.page.getByLabel("Private key (hex)").fill(key.privateKey);
  await wallet.page.getByRole("button", { name: "Import key", exact: true }).click();
  await expect(wallet.address).toHaveText(key.address);
  const credential = await issueCredential({
    issuer: attestor,
    holderJwk: publicJwkOf(key.privateKey),
    claims: { age_over_18: true, email: "ada@example.com" },
  });

  await page.goto("/embed-demo?claims=age_over_18");
  const widget = getWidget(page);
  await wallet.openRequest(await readQrText(widget));
  const matchCode = await readMatchCode(widget);
  const credentialBox = wallet.request.getByLabel("Verified claims asked for: age_over_18");
  await expect(credentialBox).toBeVisible();
  // No credential, no approval: a refused answer would burn the QR.
  await wallet.request.getByRole("button", { name: matchCode, exact: true }).click();
  await expect(wallet.request.getByRole("button", { name: "Approve", exact: true })).toBeDisabled();
  await credentialBox.fill(credential);
  await wallet.request.getByRole("button", { name: "Approve", exact: true }).click();
  await expect(wallet.result("Approved")).toBeVisible();

  await expect(page.getByText(`Logged in as ${key.address}`)).toBeVisible();
  const user = JSON.parse((await page.getByLabel("User JSON").textContent()) ?? "") as unknown;
  expect(user).toMatchObject({ address: key.address, claims: { age_over_18: true } });
  expect((user as { claims: object }).claims).not.toHaveProperty("email");
});
