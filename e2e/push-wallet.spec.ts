/**
 * Push login from the wallet simulator's and the dashboard's side (docs/protocol.md section 5):
 * the simulator pairs and stays connected, shows a pushed request live with its context, takes
 * the typed number, and answers "This wasn't me"; the dashboard then lists the device and the
 * report, renames and unpairs it, and the simulator hears that it was unpaired. The browser that
 * asks is played by a socket from the test (the widget's push mode has its own spec).
 */
import { io } from "socket.io-client";
import type { Socket } from "socket.io-client";
import { expect, test } from "./support";
import type { Wallet } from "./support";

interface PushedSession {
  sessionId: string;
  matchCode: string;
  browserSecret: string;
}
interface StateEvent {
  sessionId: string;
  state: string;
  reason?: string;
  code?: string;
}

/** A browser asking for a push login by address, over its own socket. */
async function askForPush(baseURL: string, address: string) {
  const socket: Socket = io(baseURL, { transports: ["websocket"], reconnection: false });
  const states: StateEvent[] = [];
  socket.on("login:state", (event: StateEvent) => states.push(event));
  await new Promise<void>((resolve) => socket.once("connection:established", () => resolve()));
  const ack = (await socket.timeout(20_000).emitWithAck("login:push", { address })) as {
    ok: boolean;
    session: PushedSession;
  };
  expect(ack.ok).toBe(true);
  const waitForState = async (state: string): Promise<StateEvent> => {
    await expect.poll(() => states.some((e) => e.state === state), { timeout: 20_000 }).toBe(true);
    return states.find((e) => e.state === state) as StateEvent;
  };
  return { socket, session: ack.session, waitForState };
}

function pushPanel(wallet: Wallet) {
  return wallet.page.getByRole("region", { name: "Push sign-in" });
}

test("the simulator pairs, approves a push with the typed number, reports one; the dashboard lists, renames and unpairs", async ({
  page,
  wallet,
  baseURL,
}) => {
  if (baseURL === undefined) throw new Error("no baseURL");
  const address = await wallet.readAddress();
  const panel = pushPanel(wallet);
  const connection = wallet.page.getByRole("status", { name: "Device connection" });

  await panel.getByLabel("Device name").fill("Test phone");
  await panel.getByRole("button", { name: "Pair this wallet" }).click();
  await expect(connection).toHaveText("Connected: waiting for sign-in requests.", { timeout: 20_000 });

  // A push: shown live with its context, answered with the number the page shows.
  const first = await askForPush(baseURL, address);
  const incoming = wallet.page.getByRole("region", { name: "Incoming sign-in request" });
  await expect(incoming).toBeVisible({ timeout: 20_000 });
  await expect(incoming.getByText("Wallet Login", { exact: true })).toBeVisible();
  await expect(incoming.getByText(new URL(baseURL).host, { exact: true })).toBeVisible();
  await expect(incoming.getByText("(matches this device)")).toBeVisible();
  await first.waitForState("fetched");
  await incoming.getByLabel("Number shown on the sign-in page").fill(first.session.matchCode);
  await incoming.getByRole("button", { name: "Approve", exact: true }).click();
  await expect(wallet.result("Approved")).toBeVisible();
  const approved = await first.waitForState("approved");
  // The page's side: redeeming sets the refresh cookie in this browser context.
  const redeemed = await page.request.post("/api/auth/redeem", {
    data: { sessionId: first.session.sessionId, browserSecret: first.session.browserSecret, code: approved.code },
  });
  expect(redeemed.status()).toBe(200);
  first.socket.disconnect();

  // Another push, which the person did not ask for.
  await panel.getByRole("button", { name: "Dismiss" }).click();
  const second = await askForPush(baseURL, address);
  await expect(incoming).toBeVisible({ timeout: 20_000 });
  await incoming.getByRole("button", { name: "This wasn't me" }).click();
  await expect(wallet.result("Reported: this wasn't me")).toBeVisible();
  const denied = await second.waitForState("denied");
  expect(denied.reason).toBe("not_me");
  second.socket.disconnect();

  // The dashboard: the device and the report.
  await page.goto("/dashboard");
  const devices = page.getByRole("list", { name: "Paired devices" });
  await expect(devices.getByRole("listitem")).toHaveCount(1, { timeout: 20_000 });
  const device = devices.getByRole("listitem", { name: "Test phone" });
  await expect(device.getByText(address)).toBeVisible();
  const events = page.getByRole("list", { name: "Security events" });
  await expect(events.getByRole("listitem")).toHaveCount(1);
  await expect(events.getByText(/This wasn’t me/)).toBeVisible();
  await expect(events.getByText("on Test phone")).toBeVisible();

  await device.getByRole("button", { name: "Rename Test phone" }).click();
  await page.getByLabel("New name for Test phone").fill("Work phone");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(devices.getByRole("listitem", { name: "Work phone" })).toBeVisible();

  await page.getByRole("button", { name: "Unpair Work phone" }).click();
  await expect(page.getByText("No paired devices.")).toBeVisible();
  // The simulator is disconnected at once and offers to pair again.
  await expect(connection).toHaveText(/^Not paired/, { timeout: 20_000 });
  await expect(panel.getByRole("button", { name: "Pair this wallet" })).toBeVisible();
});
