/**
 * Partner apps end to end (docs/protocol.md section 3): a signed-in user registers an app on
 * /partners, copies its id and the private key shown once, and a partner server (this
 * Node process, with the SDK) reads the user back from `users`; disabling the app on
 * the page ends its access.
 */
import { createDataClient } from "../lib/sdk/data-client";
import type { DataClient } from "../lib/sdk/data-client";
import { expect, getWidget, signInWithWallet, test } from "./support";

/** Every address in `users`, page by page. */
async function readAllAddresses(client: DataClient): Promise<string[]> {
  const addresses: string[] = [];
  for (let page = 1; ; page++) {
    const { data, meta } = await client.fetch("users", { limit: 100, page });
    addresses.push(...data.map((user) => user.address));
    if (page >= meta.pages) return addresses;
  }
}

test("a signed-in user registers a partner app and a partner server reads users with its key", async ({
  page,
  wallet,
  baseURL,
}) => {
  if (baseURL === undefined) throw new Error("no baseURL");
  await page.goto("/");
  const address = await signInWithWallet(getWidget(page), wallet, new URL(baseURL).host);
  await expect(page).toHaveURL("/dashboard");

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Partners" }).click();
  await expect(page).toHaveURL("/partners");
  await expect(page.getByRole("heading", { level: 1, name: "Partner apps" })).toBeVisible();
  await expect(page.getByText("No apps yet. Register one above.")).toBeVisible();

  const name = `E2E partner ${Date.now()}`;
  await page.getByLabel("App name").fill(name);
  await page.getByRole("button", { name: "Register app" }).click();
  await expect(page.getByText("Save the private key now.")).toBeVisible();
  await expect(page.getByText("It is shown this once and is not stored anywhere")).toBeVisible();
  await expect(page.getByRole("button", { name: "Copy private key" })).toBeVisible();
  const appId = ((await page.getByTestId("new-app-id").textContent()) ?? "").trim();
  const privateKey = ((await page.getByTestId("new-app-private-key").textContent()) ?? "").trim();
  expect(privateKey).toMatch(/^0x[0-9a-f]{64}$/);

  const table = page.getByRole("table", { name: "Your partner apps" });
  const row = table.getByRole("row").filter({ hasText: appId });
  await expect(row).toContainText(name);
  await expect(row).toContainText("Active");
  await expect(row).toContainText("never");

  const client = createDataClient({ endpoint: baseURL, appId, privateKey });
  expect(await readAllAddresses(client)).toContain(address);
  const logins = await client.fetch("logins", { limit: 100 });
  expect(logins.meta.total).toBeGreaterThan(0);

  await page.getByRole("button", { name: "I have saved the key" }).click();
  await expect(page.getByTestId("new-app-private-key")).toHaveCount(0);
  await page.reload();
  await expect(row).toContainText(name);
  // The key is never shown again; the list now has the app's last use.
  await expect(page.getByText(privateKey)).toHaveCount(0);
  await expect(row).not.toContainText("never");

  await row.getByRole("button", { name: `Disable ${name}` }).click();
  await expect(row).toContainText("Disabled");
  await expect(client.fetch("users")).rejects.toMatchObject({ code: "unknown_app", status: 401 });
  await row.getByRole("button", { name: `Enable ${name}` }).click();
  await expect(row).toContainText("Active");
  expect((await client.fetch("users", { limit: 1 })).meta.limit).toBe(1);
});

test("signed out, /partners asks to sign in", async ({ page }) => {
  await page.goto("/partners");
  await expect(page.getByText("Sign in with your wallet to register and manage partner apps.")).toBeVisible();
  await expect(page.getByRole("link", { name: "Sign in" })).toHaveAttribute("href", "/");
});
