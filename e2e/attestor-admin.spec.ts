/**
 * Attestor records on /attestor/admin (docs/protocol.md section 6.5): an admin distrusts the demo
 * attestor, trusts it again and rotates its key with the buttons named after it.
 */
import { importWalletKey } from "../lib/wallet";
import { expect, signInWithKey, test } from "./support";

const adminKey = importWalletKey(process.env.E2E_ADMIN_KEY ?? "");
const DEMO = "Wallet Login demo attestor";

test("an admin distrusts, trusts and rotates the key of an attestor on /attestor/admin", async ({
  page,
  browser,
  baseURL,
}) => {
  await signInWithKey(page, browser, baseURL ?? "", adminKey);
  await page.goto("/attestor/admin");
  const row = page.getByTestId("attestor-record").filter({ hasText: DEMO });
  await expect(row).toContainText("trusted · hosted here", { timeout: 20_000 });

  await page.getByRole("button", { name: `Distrust ${DEMO}` }).click();
  await expect(row).toContainText("not trusted");
  await page.getByRole("button", { name: `Trust ${DEMO}` }).click();
  await expect(row).toContainText("trusted · hosted here");
  await expect(row).not.toContainText("not trusted");

  const before = await row.textContent();
  await page.getByRole("button", { name: `Rotate key of ${DEMO}` }).click();
  await expect(row).toContainText(/\(\d+ previous\)/);
  expect(await row.textContent()).not.toBe(before);

  // Reloaded: what the server keeps, not only what the page shows.
  await page.reload();
  const reloaded = page.getByTestId("attestor-record").filter({ hasText: DEMO });
  await expect(reloaded).toContainText(/trusted · hosted here.*\(\d+ previous\)/s, { timeout: 20_000 });
  await expect(reloaded).not.toContainText("not trusted");
});
