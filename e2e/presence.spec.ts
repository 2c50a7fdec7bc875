/**
 * The dashboard's realtime cards (docs/protocol.md section 2): "Online now" from the
 * presence-dashboard channel, and notifications on the user's private channel.
 */
import type { Browser, Locator, Page } from "@playwright/test";
import { Wallet, expect, getWidget, signInWithWallet, test } from "./support";

const short = (address: string) => `${address.slice(0, 6)}…${address.slice(-4)}`;

function onlineNow(page: Page): Locator {
  return page.getByRole("list", { name: "Online now" });
}

/** A desktop of its own, signed in by a wallet of its own; lands on /dashboard. */
async function signIn(page: Page, wallet: Wallet, host: string): Promise<string> {
  await page.goto("/");
  const address = await signInWithWallet(getWidget(page), wallet, host);
  await expect(page).toHaveURL("/dashboard");
  await expect(page.getByLabel("Wallet address")).toHaveText(address);
  return address;
}

async function openDesktop(browser: Browser, baseURL: string) {
  const context = await browser.newContext({ baseURL, colorScheme: "light" });
  return { context, page: await context.newPage() };
}

test("two signed-in users see each other online; closing one removes it from the other", async ({
  page,
  wallet,
  browser,
  baseURL,
}) => {
  const url = baseURL ?? "";
  const host = new URL(url).host;
  const first = await signIn(page, wallet, host);
  const list = onlineNow(page);
  await expect(list.getByRole("listitem")).toHaveCount(1);
  await expect(list.getByRole("listitem")).toContainText(short(first));
  await expect(list.getByRole("listitem")).toContainText("(you)");

  const otherWallet = await Wallet.open(browser, url);
  const other = await openDesktop(browser, url);
  try {
    const second = await signIn(other.page, otherWallet, host);
    expect(second).not.toBe(first);
    const otherList = onlineNow(other.page);

    for (const [view, you, them] of [
      [list, first, second],
      [otherList, second, first],
    ] as const) {
      await expect(view.getByRole("listitem")).toHaveCount(2);
      await expect(view.getByRole("listitem").filter({ hasText: short(you) })).toContainText("(you)");
      await expect(view.getByRole("listitem").filter({ hasText: short(them) })).not.toContainText("(you)");
    }

    // A second tab of the same user is still one member.
    const secondTab = await other.context.newPage();
    await secondTab.goto("/dashboard");
    await expect(onlineNow(secondTab).getByRole("listitem")).toHaveCount(2);
    await expect(list.getByRole("listitem")).toHaveCount(2);
    await secondTab.close();
    await expect(list.getByRole("listitem")).toHaveCount(2);

    await other.context.close();
    await expect(list.getByRole("listitem")).toHaveCount(1);
    await expect(list.getByRole("listitem")).toContainText(short(first));
  } finally {
    await other.context.close();
    await otherWallet.close();
  }
});

test("'Send me a test notification' shows the notification live", async ({ page, wallet, baseURL }) => {
  await signIn(page, wallet, new URL(baseURL ?? "").host);
  const notifications = page.getByRole("list", { name: "Notifications" });
  await expect(page.getByText("No notifications yet.")).toBeVisible();
  // Subscribed once the presence list shows this user (both channels share one connection).
  await expect(onlineNow(page).getByRole("listitem")).toHaveCount(1);

  await page.getByRole("button", { name: "Send me a test notification" }).click();
  await expect(notifications.getByRole("listitem")).toHaveCount(1);
  await expect(notifications.getByRole("listitem")).toContainText("Test notification");
  await expect(page.getByText("No notifications yet.")).toHaveCount(0);

  await page.getByRole("button", { name: "Send me a test notification" }).click();
  await expect(notifications.getByRole("listitem")).toHaveCount(2);
});
