import { describe, expect, it, vi } from "vitest";
import { ERROR_MESSAGES } from "../../lib/protocol/errors";
import type { RedeemResponse } from "../../lib/protocol/login";
import {
  REDEEMED,
  T0,
  TTL_MS,
  USER,
  clientError,
  createFakeClient,
  defer,
  settle,
  setUpStore,
} from "../../test/support/fake-login-client";
import { formatCountdown, buildWalletLink } from "./format";
import { describeError, describeReason } from "./messages";
import { createQrLoginStore, selectRemainingMs } from "./store";
import type { QrLoginStoreDeps } from "./store";

function setUp(overrides: Partial<QrLoginStoreDeps> = {}) {
  return setUpStore("qr", (deps) => createQrLoginStore({ ...deps, ...overrides }));
}

async function startWaiting(overrides: Partial<QrLoginStoreDeps> = {}) {
  const setup = setUp(overrides);
  setup.store.getState().start();
  await settle();
  expect(setup.state().status).toBe("waiting");
  return setup;
}

describe("createQrLoginStore", () => {
  it("is created idle, without a client, and each store is its own", () => {
    const a = setUp();
    const b = setUp();
    expect(a.state().status).toBe("connecting");
    expect(a.clients).toHaveLength(0);
    a.store.getState().start();
    expect(a.clients).toHaveLength(1);
    expect(b.clients).toHaveLength(0);
    expect(b.state().attempts).toBe(0);
  });

  it("start: connecting, then waiting with the session's qr text, match code and expiry", async () => {
    const { store, state, fake } = setUp({ getRequiredClaims: () => ["age_over_18"] });
    store.getState().start();
    expect(state().status).toBe("connecting");
    await settle();
    const session = fake().session;
    expect(state()).toMatchObject({
      status: "waiting",
      sessionId: session?.sessionId,
      qr: session?.qr,
      matchCode: session?.matchCode,
      expiresAt: T0 + TTL_MS,
      attempts: 1,
    });
    expect(fake().calls.start).toEqual([{ requiredClaims: ["age_over_18"] }]);
  });

  it("start is idempotent while a login is going", async () => {
    const { store, clients, fake } = await startWaiting();
    store.getState().start();
    await settle();
    expect(clients).toHaveLength(1);
    expect(fake().calls.start).toHaveLength(1);
  });

  it("scanned shows the match code", async () => {
    const { state, fake } = await startWaiting();
    fake().emit("scanned");
    expect(state().status).toBe("scanned");
    expect(state().matchCode).toBe(fake().session?.matchCode);
  });

  it("approved: signing-in, redeem, signed-in, onLogin once with user and token, socket closed", async () => {
    const { state, fake, onLogin, onError } = await startWaiting();
    const redeem = defer<RedeemResponse>();
    fake().redeemResult = redeem;
    fake().emit("scanned");
    fake().emit("approved", { code: "one-time" });
    expect(state().status).toBe("signing-in");
    expect(fake().calls.redeem).toBe(1);
    redeem.resolve(REDEEMED);
    await settle();
    expect(state().status).toBe("signed-in");
    expect(onLogin).toHaveBeenCalledTimes(1);
    expect(onLogin).toHaveBeenCalledWith({ user: USER, accessToken: "token-1", expiresIn: 900 });
    expect(onError).not.toHaveBeenCalled();
    expect(fake().calls.close).toBe(1);
    expect(fake().listenerCount()).toBe(0);
  });

  it("a failed redeem ends in error with its code", async () => {
    const { state, fake, onLogin, onError } = await startWaiting();
    const redeem = defer<RedeemResponse>();
    fake().redeemResult = redeem;
    fake().emit("approved", { code: "one-time" });
    redeem.reject(clientError("invalid_code"));
    await settle();
    expect(state().status).toBe("error");
    // The server's own text for a code the widget has no sentence of its own for.
    expect(state().error).toEqual({ code: "invalid_code", message: ERROR_MESSAGES.invalid_code });
    expect(onError).toHaveBeenCalledWith(state().error);
    expect(onLogin).not.toHaveBeenCalled();
  });

  it.each([
    ["wrong_match_code", "The wrong number was chosen on the phone."],
    ["nonce_mismatch", "The wallet signed an outdated login request."],
    ["invalid_signature", "The wallet's signature could not be verified."],
    ["user_denied", "The sign-in was declined in the wallet."],
    ["claims_missing", "The wallet did not share the details this site needs."],
    ["claims_invalid", "The details the wallet shared could not be verified."],
    ["domain_mismatch", "The wallet signed a request for another site."],
    ["field_mismatch", "The signed message does not match this login."],
    ["something_new", "The sign-in was refused."],
  ])("denied with reason %s reads %j", async (reason, sentence) => {
    const { state, fake, onError } = await startWaiting();
    fake().emit("scanned");
    fake().emit("denied", { reason });
    expect(state().status).toBe("denied");
    expect(state().error).toEqual({ code: reason, message: sentence });
    expect(onError).toHaveBeenCalledExactlyOnceWith({ code: reason, message: sentence });
  });

  it("describeReason never reads inherited keys as reasons", () => {
    expect(describeReason("constructor")).toBe("The sign-in was refused.");
    expect(describeReason(undefined)).toBe("The sign-in was refused.");
    expect(describeError("toString")).toBe("Something went wrong.");
  });

  it("cancel: cancelled at once, the session is cancelled on the server, a late approval is ignored", async () => {
    const { store, state, fake, onLogin } = await startWaiting();
    const sessionId = fake().session?.sessionId;
    store.getState().cancel();
    expect(state().status).toBe("cancelled");
    await settle();
    expect(fake().calls.cancel).toEqual([sessionId]);
    fake().emit("approved", { code: "late" });
    await settle();
    expect(state().status).toBe("cancelled");
    expect(fake().calls.redeem).toBe(0);
    expect(onLogin).not.toHaveBeenCalled();
  });

  it("cancel while the start is in flight cancels that session once it is acked", async () => {
    const { store, state, fake } = await startWaiting();
    store.getState().cancel();
    fake().holdStarts = true;
    store.getState().restart();
    expect(state().status).toBe("connecting");
    store.getState().cancel();
    expect(state().status).toBe("cancelled");
    await settle();
    expect(fake().heldStarts).toHaveLength(1);
    fake().heldStarts[0]?.resolve();
    await settle();
    expect(state().status).toBe("cancelled");
    expect(state().qr).toBeUndefined();
    expect(fake().calls.cancel).toEqual(["session-1", "session-2"]);
  });

  it("a cancelled event from the server ends it as cancelled", async () => {
    const { state, fake } = await startWaiting();
    fake().emit("cancelled", { reason: "cancelled" });
    expect(state().status).toBe("cancelled");
  });

  it("expired: a new code once by itself, then expired with a New code button that resets the budget", async () => {
    const { store, state, fake, onError } = await startWaiting();
    const first = state().qr;
    fake().emit("expired", { reason: "session_expired" });
    expect(state().status).toBe("connecting");
    await settle();
    expect(state()).toMatchObject({ status: "waiting", autoRestarts: 1, attempts: 2 });
    expect(state().qr).not.toBe(first);

    fake().emit("expired", { reason: "session_expired" });
    await settle();
    expect(state().status).toBe("expired");
    expect(state().attempts).toBe(2);
    expect(onError).not.toHaveBeenCalled();

    store.getState().restart();
    await settle();
    expect(state()).toMatchObject({ status: "waiting", autoRestarts: 0, attempts: 3 });
    fake().emit("expired");
    await settle();
    expect(state()).toMatchObject({ status: "waiting", autoRestarts: 1, attempts: 4 });
  });

  it("maxAutoRestarts 0 shows expired at the first expiry", async () => {
    const { state, fake } = await startWaiting({ maxAutoRestarts: 0 });
    fake().emit("expired");
    expect(state().status).toBe("expired");
  });

  it("an approved session the server could not finish (expired, internal_error) is an error, not a new code", async () => {
    const { state, fake, onError } = await startWaiting();
    fake().emit("expired", { reason: "internal_error" });
    expect(state().status).toBe("error");
    expect(onError).toHaveBeenCalledWith({ code: "internal_error", message: describeError("internal_error") });
  });

  it.each(["denied", "cancelled", "error"] as const)(
    "restart from %s starts a new session on the same socket",
    async (end) => {
      const { store, state, fake, clients } = await startWaiting();
      fake().redeemResult = defer<RedeemResponse>();
      if (end === "denied") fake().emit("denied", { reason: "user_denied" });
      if (end === "cancelled") store.getState().cancel();
      if (end === "error") {
        fake().emit("approved", { code: "c" });
        fake().redeemResult?.reject(clientError("network_error"));
      }
      await settle();
      expect(state().status).toBe(end);
      store.getState().restart();
      expect(state().status).toBe("connecting");
      expect(state().error).toBeUndefined();
      await settle();
      expect(state()).toMatchObject({ status: "waiting", sessionId: "session-2" });
      expect(clients).toHaveLength(1);
    },
  );

  it("restart does nothing while a login is open", async () => {
    const { store, state, fake } = await startWaiting();
    store.getState().restart();
    await settle();
    expect(state().sessionId).toBe("session-1");
    expect(fake().calls.start).toHaveLength(1);
  });

  it("disconnect: offline keeping the code; reconnect goes back to where it was", async () => {
    const { state, fake } = await startWaiting();
    fake().emit("scanned");
    fake().disconnect();
    expect(state()).toMatchObject({ status: "offline", statusBeforeOffline: "scanned", qr: fake().session?.qr });
    fake().reconnect();
    expect(state()).toMatchObject({ status: "scanned", statusBeforeOffline: undefined });
  });

  it("offline, then the resumed state (approved meanwhile) arrives after reconnect and signs in", async () => {
    const { state, fake, onLogin } = await startWaiting();
    fake().disconnect();
    expect(state().status).toBe("offline");
    fake().reconnect();
    fake().emit("approved", { code: "one-time" });
    await settle();
    expect(state().status).toBe("signed-in");
    expect(onLogin).toHaveBeenCalledTimes(1);
  });

  it("a state pushed while offline is applied (the resume answer can beat the connect event)", async () => {
    const { state, fake } = await startWaiting();
    fake().disconnect();
    fake().emit("expired");
    await settle();
    expect(state().status).toBe("waiting");
    expect(state().autoRestarts).toBe(1);
  });

  it("a refused resume (session lost on the server) gets a new code once, then is an error", async () => {
    const { state, fake, onError } = await startWaiting();
    fake().disconnect();
    fake().reconnect();
    fake().emitError("session_not_found");
    await settle();
    expect(state()).toMatchObject({ status: "waiting", sessionId: "session-2", autoRestarts: 1 });
    fake().emitError("session_not_found");
    expect(state().status).toBe("error");
    expect(state().error?.code).toBe("session_not_found");
    expect(onError).toHaveBeenCalledTimes(1);
  });

  it("the client's own 'closed' error is not a failure", async () => {
    const { state, fake } = await startWaiting();
    fake().emitError("closed");
    expect(state().status).toBe("waiting");
  });

  it("disconnect does not touch states without an open code", async () => {
    const { store, state, fake } = await startWaiting();
    store.getState().cancel();
    fake().disconnect();
    expect(state().status).toBe("cancelled");
    fake().reconnect();
    expect(state().status).toBe("cancelled");
  });

  it("start failure (rate_limited): error with the human text; Try again works", async () => {
    const { store, state, fake, onError } = setUp();
    store.getState().start();
    fake().startFailures.push("rate_limited");
    await settle();
    expect(state().status).toBe("error");
    expect(state().error).toEqual({ code: "rate_limited", message: ERROR_MESSAGES.rate_limited });
    expect(onError).toHaveBeenCalledTimes(1);
    store.getState().restart();
    await settle();
    expect(state().status).toBe("waiting");
  });

  it("a start that timed out while offline is tried again when the socket comes back", async () => {
    const { store, state, fake } = setUp();
    store.getState().start();
    fake().startFailures.push("timeout");
    await settle();
    // The client's own text ("No answer to login:start within ...") is for developers.
    expect(state().error).toEqual({ code: "timeout", message: "The login server did not answer in time." });
    fake().reconnect();
    await settle();
    expect(state().status).toBe("waiting");
  });

  it("a start answered unavailable stays connecting and is asked again by itself", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    try {
      const { store, state, fake, onError } = setUp();
      store.getState().start();
      fake().startFailures.push("unavailable");
      await settle();
      expect(state().status).toBe("connecting");
      expect(onError).not.toHaveBeenCalled();
      expect(fake().calls.start).toHaveLength(1);
      await vi.runOnlyPendingTimersAsync();
      await settle();
      expect(fake().calls.start).toHaveLength(2);
      expect(state().status).toBe("waiting");
    } finally {
      vi.useRealTimers();
    }
  });

  it("a login the server forgot (expired, store_reset) is replaced by a fresh code", async () => {
    const { state, fake } = await startWaiting();
    fake().emit("expired", { reason: "store_reset" });
    await settle();
    expect(state()).toMatchObject({ status: "waiting", sessionId: "session-2" });
  });

  it("tick moves the countdown of an open code and nothing else", async () => {
    const { store, state } = await startWaiting();
    expect(selectRemainingMs(state())).toBe(TTL_MS);
    store.getState().tick(T0 + 30_500);
    expect(selectRemainingMs(state())).toBe(89_500);
    expect(formatCountdown(selectRemainingMs(state()) ?? 0)).toBe("01:30");
    store.getState().tick(T0 + TTL_MS + 5000);
    expect(selectRemainingMs(state())).toBe(0);
    expect(state().status).toBe("waiting");

    store.getState().cancel();
    const before = state();
    store.getState().tick(T0 + 1);
    expect(state()).toBe(before);
  });

  it("nothing leaves signed-in", async () => {
    const { store, state, fake, onLogin, onError } = await startWaiting();
    fake().emit("approved", { code: "one-time" });
    await settle();
    expect(state().status).toBe("signed-in");
    const snapshot = state();
    const actions = store.getState();
    actions.handleState({ sessionId: "session-1", state: "denied", reason: "user_denied" });
    actions.handleState({ sessionId: "session-1", state: "expired" });
    actions.handleClientError({ code: "session_not_found", message: "gone" });
    actions.handleDisconnect();
    actions.handleReconnect();
    actions.cancel();
    actions.restart();
    actions.start();
    actions.tick(T0 + 10_000);
    await actions.dispose();
    await settle();
    expect(state()).toBe(snapshot);
    expect(onLogin).toHaveBeenCalledTimes(1);
    expect(onError).not.toHaveBeenCalled();
  });

  it("events of another session are ignored", async () => {
    const { store, state } = await startWaiting();
    store.getState().handleState({ sessionId: "someone-else", state: "scanned" });
    expect(state().status).toBe("waiting");
  });

  it("dispose cancels the open session, closes the socket and can start afresh (StrictMode remount)", async () => {
    const { store, state, clients } = await startWaiting();
    const first = clients[0]?.fake;
    await store.getState().dispose();
    expect(first?.calls.cancel).toEqual(["session-1"]);
    expect(first?.calls.close).toBe(1);
    expect(first?.listenerCount()).toBe(0);
    expect(state()).toMatchObject({ status: "connecting", qr: undefined, attempts: 0 });

    store.getState().start();
    await settle();
    expect(clients).toHaveLength(2);
    expect(state()).toMatchObject({ status: "waiting", attempts: 1 });
  });

  it("dispose while the start is in flight cancels that session when it is acked, then closes", async () => {
    const { store, state, fake } = setUp();
    const made = createFakeClient("qr");
    made.fake.holdStarts = true;
    const { store: held } = setUp({ createClient: () => made.client });
    held.getState().start();
    await settle();
    const disposed = held.getState().dispose();
    expect(made.fake.calls.close).toBe(0);
    made.fake.heldStarts[0]?.resolve();
    await disposed;
    expect(made.fake.calls.cancel).toEqual(["session-1"]);
    expect(made.fake.calls.close).toBe(1);
    expect(held.getState().status).toBe("connecting");
    // The untouched store is unaffected.
    store.getState().start();
    await settle();
    expect(state().status).toBe("waiting");
    expect(fake().calls.cancel).toEqual([]);
  });

  it("dispose while offline closes without waiting on a cancel that cannot be sent", async () => {
    const { store, fake } = await startWaiting();
    fake().disconnect();
    await store.getState().dispose();
    expect(fake().calls.cancel).toEqual([]);
    expect(fake().calls.close).toBe(1);
  });
});

describe("format", () => {
  it("formats the countdown as mm:ss, rounding up", () => {
    expect(formatCountdown(120_000)).toBe("02:00");
    expect(formatCountdown(59_001)).toBe("01:00");
    expect(formatCountdown(1)).toBe("00:01");
    expect(formatCountdown(0)).toBe("00:00");
    expect(formatCountdown(-5)).toBe("00:00");
  });

  it("fills the wallet link template with the URL-encoded qr text", () => {
    const qr = "https://app.example/api/login/requests/abc_-1";
    expect(buildWalletLink("examplewallet://login?request={qr}", qr)).toBe(
      "examplewallet://login?request=https%3A%2F%2Fapp.example%2Fapi%2Flogin%2Frequests%2Fabc_-1",
    );
  });
});
