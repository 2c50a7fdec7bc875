/**
 * Every page, at a desktop and a phone width, passes axe-core's WCAG 2.1 A and AA rules
 * in the state a person sees it in: the widget showing its code, the wallet with its
 * address, the partner page signed out and signed in, and the dashboard signed in
 * (signed out, /dashboard sends you to /).
 */
import { AxeBuilder } from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { expect, getWidget, readQrText, signInWithWallet, test } from "./support";

const WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/** The violations on the page as it is now, in a form whose failure message says what and where. */
async function findViolations(page: Page) {
  const { violations } = await new AxeBuilder({ page }).withTags(WCAG_21_AA).analyze();
  return violations.map(({ id, impact, help, nodes }) => ({
    id,
    impact,
    help,
    targets: nodes.map((node) => node.target.join(" ")),
  }));
}

for (const width of [1280, 390]) {
  test.describe(`at ${width} px`, () => {
    test.use({ viewport: { width, height: 900 }, colorScheme: "light" });

    test("/ with the widget showing its code", async ({ page }) => {
      await page.goto("/");
      await readQrText(getWidget(page));
      expect(await findViolations(page)).toEqual([]);
    });

    test("/wallet with its address", async ({ page }) => {
      await page.goto("/wallet");
      await expect(page.getByTestId("wallet-address")).toHaveText(/^0x[0-9a-fA-F]{40}$/);
      expect(await findViolations(page)).toEqual([]);
    });

    test("/embed-demo with the widget showing its code", async ({ page }) => {
      await page.goto("/embed-demo");
      await readQrText(getWidget(page));
      expect(await findViolations(page)).toEqual([]);
    });

    test("/partners signed out", async ({ page }) => {
      await page.goto("/partners");
      await expect(page.getByText("Sign in with your wallet to register and manage partner apps.")).toBeVisible();
      expect(await findViolations(page)).toEqual([]);
    });

    test("/dashboard and /partners signed in", async ({ page, wallet, baseURL }) => {
      if (baseURL === undefined) throw new Error("no baseURL");
      await page.goto("/");
      await signInWithWallet(getWidget(page), wallet, new URL(baseURL).host);
      await expect(page).toHaveURL("/dashboard");
      await expect(page.getByRole("heading", { level: 1, name: "You're signed in" })).toBeVisible();
      await expect(page.getByTestId("account-address")).toHaveText(await wallet.readAddress());
      expect(await findViolations(page)).toEqual([]);

      await page.goto("/partners");
      await expect(page.getByRole("heading", { level: 1, name: "Partner apps" })).toBeVisible();
      await expect(page.getByText("No apps yet. Register one above.")).toBeVisible();
      expect(await findViolations(page)).toEqual([]);
    });
  });
}
