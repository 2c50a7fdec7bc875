import { expect, test } from "@playwright/test";

test("the home page answers and says what the app is", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Wallet Login");
});

test("the API health check answers beside the pages", async ({ request }) => {
  const res = await request.get("/api/health");
  expect(res.ok()).toBe(true);
  // It tells nobody how the server is built (stores, database, crypto backend).
  expect(await res.json()).toEqual({ ok: true });
});
