import type { BrowserContext, Page, WebSocketRoute } from "@playwright/test";
import { expect, getWidget, readMatchCode, readQrText, test } from "./support";

/**
 * Takes a page's connection to the server down and up again. Chromium's offline
 * emulation (context.setOffline) refuses new connections but leaves an open websocket
 * alone, so the open ones are closed here, on both ends, through a pass-through
 * websocket route: the page sees its socket closed (as when a network goes away) and
 * the server sees the client gone. While down, socket.io's reconnection attempts fail
 * with net::ERR_INTERNET_DISCONNECTED.
 */
class Connection {
  private readonly open = new Set<{ page: WebSocketRoute; server: WebSocketRoute }>();
  /** Text frames the page sent, in order, over every connection. */
  readonly sent: string[] = [];

  private constructor(private readonly context: BrowserContext) {}

  static async watch(page: Page): Promise<Connection> {
    const connection = new Connection(page.context());
    await page.routeWebSocket(/\/socket\.io\//, (socket) => {
      const server = socket.connectToServer();
      connection.open.add({ page: socket, server });
    });
    page.on("websocket", (socket) =>
      socket.on("framesent", ({ payload }) => {
        if (typeof payload === "string") connection.sent.push(payload);
      }),
    );
    return connection;
  }

  async drop(): Promise<void> {
    await this.context.setOffline(true);
    const open = [...this.open];
    this.open.clear();
    for (const { page, server } of open) {
      await server.close();
      await page.close();
    }
  }

  async restore(): Promise<void> {
    await this.context.setOffline(false);
  }
}

test("a login approved while the page's socket was down completes once it is back", async ({
  page,
  wallet,
  baseURL,
}) => {
  const connection = await Connection.watch(page);
  await page.goto("/");
  const widget = getWidget(page);
  const qr = await readQrText(widget);
  await wallet.openRequest(qr);
  await expect(wallet.requestDomain).toHaveText(new URL(baseURL ?? "").host);
  const matchCode = await readMatchCode(widget);

  await connection.drop();
  await expect(widget).toHaveAttribute("data-state", "offline");
  await expect(widget.getByText("Offline — reconnecting…")).toBeVisible();
  // The code stays on screen: the login is not lost, only out of touch.
  await expect(widget.locator("[data-qr]")).toHaveAttribute("data-qr", qr);

  // The approval happens while the page cannot hear about it.
  await wallet.approve(matchCode);
  await expect(wallet.result("Approved")).toBeVisible();
  await expect(widget).toHaveAttribute("data-state", "offline");

  await connection.restore();
  // socket.io retries with a backoff of up to 5 s; the resumed session carries the approval.
  await expect(page).toHaveURL("/dashboard", { timeout: 15_000 });
  await expect(page.getByLabel("Wallet address")).toHaveText(await wallet.readAddress());
  expect(connection.sent.some((frame) => frame.includes('"login:resume"'))).toBe(true);
});

test("a socket that drops and comes back before the scan still gets the rest of the login", async ({
  page,
  wallet,
}) => {
  const connection = await Connection.watch(page);
  await page.goto("/");
  const widget = getWidget(page);
  const qr = await readQrText(widget);

  await connection.drop();
  await expect(widget).toHaveAttribute("data-state", "offline");
  await connection.restore();
  await expect(widget).toHaveAttribute("data-state", "waiting", { timeout: 15_000 });
  await expect(widget.locator("[data-qr]")).toHaveAttribute("data-qr", qr);

  // Events after the reconnect reach the page on its new socket.
  await wallet.openRequest(qr);
  const matchCode = await readMatchCode(widget);
  await wallet.approve(matchCode);
  await expect(page).toHaveURL("/dashboard");
  await expect(page.getByLabel("Wallet address")).toHaveText(await wallet.readAddress());
});
