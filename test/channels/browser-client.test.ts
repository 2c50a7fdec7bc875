/**
 * lib/sdk/channels-client.ts against a real app, and the dashboard's
 * `POST /api/notifications/test`, which emits as the app's REST API does.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createChannelsClient } from "../../lib/sdk/channels-client";
import type { ChannelsClient, ChannelSubscription } from "../../lib/sdk/channels-client";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { closeAndSettle, createPusherSdk, signInUser, WAIT_MS } from "./helpers";

let app: TestApp;
let alice: Awaited<ReturnType<typeof signInUser>>;
let bob: Awaited<ReturnType<typeof signInUser>>;
const opened: ChannelsClient[] = [];

function connect(token: string | null): ChannelsClient {
  const client = createChannelsClient({ endpoint: app.baseUrl, getAccessToken: () => token });
  opened.push(client);
  return client;
}

function subscribed(subscription: ChannelSubscription): Promise<void> {
  if (subscription.isSubscribed()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${subscription.channel} not subscribed`)), WAIT_MS);
    subscription.onError((error) => {
      clearTimeout(timer);
      reject(error);
    });
    subscription.onSubscribed(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Resolves once `subscription` got `event`: every push sent to it before has arrived. */
function received(subscription: ChannelSubscription, event: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} on ${subscription.channel}`)), WAIT_MS);
    const unbind = subscription.bind(event, () => {
      clearTimeout(timer);
      unbind();
      resolve();
    });
  });
}

/** A probe through the app's REST API, which emits as everything else does on this node: a fence. */
async function probe(subscription: ChannelSubscription): Promise<void> {
  const event = `probe-${Math.random().toString(36).slice(2)}`;
  const arrived = received(subscription, event);
  await createPusherSdk(app.baseUrl, app.ctx.channelCredentials).trigger(subscription.channel, event, {});
  await arrived;
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const postTest = (token: string) =>
  fetch(`${app.baseUrl}/api/notifications/test`, { method: "POST", headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  app = await startTestApp();
  [alice, bob] = await Promise.all([signInUser(app.baseUrl), signInUser(app.baseUrl)]);
});
afterEach(() => {
  for (const client of opened.splice(0)) client.close();
});
afterAll(async () => {
  await app?.stop();
});

describe("channels client against the app", () => {
  it("presence: members with their addresses, each user once, removed when they leave", async () => {
    const a = connect(alice.accessToken).subscribe("presence-dashboard");
    await subscribed(a);
    expect(a.members()).toEqual([{ id: alice.userId, info: { address: alice.address } }]);

    const bobClient = connect(bob.accessToken);
    const b = bobClient.subscribe("presence-dashboard");
    const b2 = connect(bob.accessToken).subscribe("presence-dashboard");
    await Promise.all([subscribed(b), subscribed(b2)]);
    await until(() => a.members().length === 2);
    expect(
      b
        .members()
        .map((m) => m.id)
        .sort(),
    ).toEqual([alice.userId, bob.userId].sort());

    // One of Bob's two connections goes: once the app has cleaned up after it, a probe
    // reaches Alice after any member_removed it might (wrongly) have sent.
    await closeAndSettle(app, bobClient.socket, bobClient.getSocketId()!);
    await probe(a);
    expect(a.members()).toHaveLength(2);
    opened.at(-1)?.close();
    await until(() => a.members().length === 1);
  });

  it("refuses another user's private channel", async () => {
    const sub = connect(alice.accessToken).subscribe(`private-user-${bob.userId}`);
    await expect(subscribed(sub)).rejects.toMatchObject({ code: "forbidden" });
  });
});

describe("POST /api/notifications/test", () => {
  it("pushes {title, body, at} to the user's private channel only", async () => {
    const mine = connect(alice.accessToken).subscribe(`private-user-${alice.userId}`);
    const theirs = connect(bob.accessToken).subscribe(`private-user-${bob.userId}`);
    const got: unknown[] = [];
    const gotByBob: unknown[] = [];
    mine.bind("notification", (data) => got.push(data));
    theirs.bind("notification", (data) => gotByBob.push(data));
    await Promise.all([subscribed(mine), subscribed(theirs)]);

    const response = await postTest(alice.accessToken);
    expect(response.status).toBe(200);
    await until(() => got.length === 1);
    expect(got[0]).toEqual({ title: "Test notification", body: expect.any(String), at: expect.any(String) });
    expect(Number.isNaN(Date.parse((got[0] as { at: string }).at))).toBe(false);
    // Emitted on this node after Alice's notification: Bob's copy, if any, would come first.
    await probe(theirs);
    expect(gotByBob).toEqual([]);
  });

  it("needs a valid access token", async () => {
    const response = await postTest("not-a-token");
    expect(response.status).toBe(401);
  });

  it("is rate limited per user", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await postTest(bob.accessToken)).status);
    expect(statuses.slice(0, 10).every((status) => status === 200)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });
});
