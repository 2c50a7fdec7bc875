import { describe, expect, it, vi } from "vitest";
import { ADDRESS, T0, TTL_MS, USER, settle, setUpStore } from "../../test/support/fake-login-client";
import { createPushLoginStore, shortAddress } from "./push-store";
import type { PushLoginStoreDeps } from "./push-store";

function setUp(overrides: Partial<PushLoginStoreDeps> = {}) {
  return setUpStore("push", (deps) => createPushLoginStore({ ...deps, pollIntervalMs: 1, ...overrides }));
}

async function sent() {
  const setup = setUp();
  setup.store.getState().send(ADDRESS);
  expect(setup.state().status).toBe("sending");
  await settle();
  expect(setup.state().status).toBe("pending");
  return setup;
}

describe("createPushLoginStore", () => {
  it("starts idle, without a socket, until an address is sent", () => {
    const { state, clients } = setUp();
    expect(state()).toMatchObject({ status: "idle", address: undefined, sessionId: undefined, offline: false });
    expect(clients).toHaveLength(0);
  });

  it("an address that is not one stays idle with a sentence and opens no socket", () => {
    const { store, state, clients } = setUp();
    for (const input of ["", "0x123", `${ADDRESS}00`, "f39Fd6e51aad88F6F4ce6aB8827279cffFb92266aa"]) {
      store.getState().send(input);
      expect(state().status).toBe("idle");
      expect(state().error?.code).toBe("invalid_address");
    }
    expect(clients).toHaveLength(0);
  });

  it("send: login:push with the trimmed address, then pending with the number to type and the expiry", async () => {
    const { store, state, fake } = setUp();
    store.getState().send(`  ${ADDRESS} `);
    await settle();
    expect(fake().calls.push).toEqual([ADDRESS]);
    expect(state()).toMatchObject({
      status: "pending",
      address: ADDRESS,
      sessionId: fake().session?.sessionId,
      matchCode: fake().session?.matchCode,
      expiresAt: T0 + TTL_MS,
      error: undefined,
    });
  });

  it("fetched when the phone opened it; approved is redeemed: signed-in, onLogin once, socket closed", async () => {
    const { state, fake, onLogin, onError } = await sent();
    fake().emit("fetched");
    expect(state().status).toBe("fetched");
    expect(state().matchCode).toBe(fake().session?.matchCode);
    fake().emit("approved", { code: "one-time" });
    expect(state().status).toBe("signing-in");
    await settle();
    expect(state().status).toBe("signed-in");
    expect(onLogin).toHaveBeenCalledExactlyOnceWith({ user: USER, accessToken: "token-1", expiresIn: 900 });
    expect(onError).not.toHaveBeenCalled();
    expect(fake().calls.close).toBe(1);
    expect(fake().listenerCount()).toBe(0);
  });

  it.each([
    ["user_denied", "The sign-in was declined on your phone."],
    ["not_me", "Your phone answered “This wasn't me”: no more requests go to it for a while."],
    ["wrong_match_code", "The wrong number was typed on the phone."],
    ["invalid_signature", "The wallet's signature could not be verified."],
    ["something_new", "The sign-in was refused."],
  ])("denied with reason %s reads %j and calls onError", async (reason, message) => {
    const { state, fake, onError } = await sent();
    fake().emit("fetched");
    fake().emit("denied", { reason });
    expect(state().status).toBe("denied");
    expect(state().error).toEqual({ code: reason, message });
    expect(onError).toHaveBeenCalledExactlyOnceWith({ code: reason, message });
  });

  it.each([
    ["expired", "session_expired", "expired"],
    ["suspended", "superseded", "suspended"],
    ["cancelled", "cancelled", "cancelled"],
  ] as const)("%s (%s) ends as %s, and nothing moves it after", async (state, reason, status) => {
    const setup = await sent();
    setup.fake().emit(state, { reason });
    expect(setup.state().status).toBe(status);
    setup.fake().emit("approved", { code: "late" });
    await settle();
    expect(setup.state().status).toBe(status);
    expect(setup.fake().calls.redeem).toBe(0);
    expect(setup.fake().calls.push).toHaveLength(1);
  });

  it("cancel: cancelled at once, the session is cancelled on the server, a late approval is ignored", async () => {
    const { store, state, fake, onLogin } = await sent();
    const sessionId = fake().session?.sessionId;
    store.getState().cancel();
    expect(state().status).toBe("cancelled");
    await settle();
    expect(fake().calls.cancel).toEqual([sessionId]);
    fake().emit("approved", { code: "late" });
    await settle();
    expect(state().status).toBe("cancelled");
    expect(onLogin).not.toHaveBeenCalled();
  });

  it("cancel while sending cancels that session once it is acked", async () => {
    const { store, state, fake } = setUp();
    store.getState().send(ADDRESS);
    store.getState().cancel();
    expect(state().status).toBe("cancelled");
    await settle();
    expect(fake().calls.cancel).toEqual([fake().session?.sessionId]);
    expect(state().status).toBe("cancelled");
    expect(state().matchCode).toBeUndefined();
  });

  it("rate_limited: error with a sentence for the person, who can send again later", async () => {
    const { store, state, fake, onError } = setUp();
    store.getState().send(ADDRESS);
    // The push itself runs after the socket queue's turn.
    fake().pushFailures.push("rate_limited");
    await settle();
    expect(state().status).toBe("error");
    expect(state().error).toEqual({
      code: "rate_limited",
      message: "Too many sign-in requests for this address. Wait a few minutes, or use the QR code.",
    });
    expect(onError).toHaveBeenCalledOnce();
  });

  it("Send again after an end pushes anew to the same address; reset goes back to the form", async () => {
    const { store, state, fake } = await sent();
    const first = fake().session?.sessionId;
    fake().emit("expired", { reason: "session_expired" });
    store.getState().send(state().address ?? "");
    await settle();
    expect(state().status).toBe("pending");
    expect(state().sessionId).not.toBe(first);
    expect(fake().calls.push).toEqual([ADDRESS, ADDRESS]);
    fake().emit("denied", { reason: "user_denied" });
    store.getState().reset();
    expect(state()).toMatchObject({ status: "idle", address: ADDRESS, sessionId: undefined, error: undefined });
  });

  it("send is ignored while a push is open", async () => {
    const { store, fake } = await sent();
    store.getState().send(ADDRESS);
    await settle();
    expect(fake().calls.push).toHaveLength(1);
  });

  it("socket down: polls the session over HTTP; an approval found by a poll is redeemed", async () => {
    const { state, fake, onLogin } = await sent();
    fake().pollAnswers.push({ state: "pending" }, { error: "network_error" }, { state: "fetched" });
    fake().pollAnswers.push({ state: "approved", code: "one-time" });
    fake().disconnect();
    expect(state().offline).toBe(true);
    await vi.waitFor(() => expect(state().status).toBe("signed-in"), { timeout: 10_000 });
    expect(fake().calls.poll).toBe(4);
    expect(onLogin).toHaveBeenCalledOnce();
  });

  it("no polling while the socket is up, and it stops when the socket is back", async () => {
    const { state, fake } = await sent();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fake().calls.poll).toBe(0);
    fake().pollAnswers.push({ state: "fetched" });
    fake().disconnect();
    await vi.waitFor(() => expect(state().status).toBe("fetched"), { timeout: 10_000 });
    fake().reconnect();
    expect(state().offline).toBe(false);
    const polls = fake().calls.poll;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fake().calls.poll).toBe(polls);
    expect(state().status).toBe("fetched");
  });

  it("a poll that finds the session gone ends it as expired", async () => {
    const { state, fake } = await sent();
    fake().pollAnswers.push({ error: "session_not_found" });
    fake().disconnect();
    await vi.waitFor(() => expect(state().status).toBe("expired"), { timeout: 10_000 });
    expect(state().offline).toBe(false);
  });

  it("dispose cancels an open push and closes the socket; the store can send again after", async () => {
    const { store, state, fake, clients } = await sent();
    const sessionId = fake().session?.sessionId;
    await store.getState().dispose();
    expect(clients[0]?.fake.calls.cancel).toEqual([sessionId]);
    expect(clients[0]?.fake.calls.close).toBe(1);
    expect(state().status).toBe("idle");
    store.getState().send(ADDRESS);
    await settle();
    expect(clients).toHaveLength(2);
    expect(state().status).toBe("pending");
  });

  it("the countdown ticks only while a push is open", async () => {
    const { store, state, fake } = await sent();
    store.getState().tick(T0 + 30_000);
    expect(state().now).toBe(T0 + 30_000);
    fake().emit("expired", { reason: "session_expired" });
    store.getState().tick(T0 + 60_000);
    expect(state().now).toBe(T0 + 30_000);
  });

  it("shortAddress keeps the first four and last four hex digits", () => {
    expect(shortAddress(ADDRESS)).toBe("0xf39F…2266");
  });
});
