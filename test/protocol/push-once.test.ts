/**
 * A push reaches a device socket at most once (docs/protocol.md section 5.3), on the memory and
 * the Redis stores, in the race of a device that authenticates just as the push is sent: the
 * push is both broadcast to the device's room and sent by `device:auth` as the address's latest
 * open push. Each order of the two is forced by holding the server at the step between them.
 *
 * And a socket holding a push the store forgot (Redis back empty) is told `push:closed`
 * `expired` (`store_reset`); the whole outage is test/multi-node/push-outage.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChallengeView } from "../../lib/protocol/push";
import type { PushClosedEvent, PushRequest } from "../../lib/protocol/push";
import { createWalletKey, signDeviceChallenge } from "../../lib/wallet";
import { closeForgottenPushes } from "../../server/realtime/push-handlers";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { TEST_REDIS_URL } from "../support/services";
import { emitAck } from "./helpers";
import { createPushClients, Inbox } from "./push-helpers";

const NO_SESSION = "AAAAAAAAAAAAAAAAAAAAAA";

/** A step of the server held until the test lets it go. */
function createGate() {
  let enter: () => void = () => undefined;
  let open: () => void = () => undefined;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  const opened = new Promise<void>((resolve) => (open = resolve));
  return {
    entered,
    open,
    async pass() {
      enter();
      await opened;
    },
  };
}

for (const kind of ["memory", "redis"] as const) {
  describe(`push delivery at most once per socket (${kind} stores)`, () => {
    let app: TestApp;
    const clients = createPushClients(() => app.baseUrl);
    const { pair, connectDevice, startedPush } = clients;

    beforeAll(async () => {
      app = await startTestApp(kind === "redis" ? { REDIS_URL: TEST_REDIS_URL } : {});
    });
    afterAll(async () => {
      clients.closeAll();
      await app?.stop();
    });

    /** Holds `method` of `target` (before or after it runs) when `when(args)` says so, once. */
    function hold<T extends object, K extends keyof T>(
      target: T,
      method: K,
      when: (...args: unknown[]) => boolean,
      at: "before" | "after",
    ) {
      const gate = createGate();
      const original = target[method] as (...args: unknown[]) => Promise<unknown>;
      let isArmed = true;
      target[method] = (async (...args: unknown[]) => {
        if (!isArmed || !when(...args)) return original.apply(target, args);
        isArmed = false;
        if (at === "before") await gate.pass();
        const result = await original.apply(target, args);
        if (at === "after") await gate.pass();
        return result;
      }) as T[K];
      return { ...gate, restore: () => (target[method] = original as T[K]) };
    }

    /** Anything the server sent this socket before the fence's ack has arrived. */
    async function fence(socket: Parameters<typeof emitAck>[0]) {
      await emitAck(socket, "push:open", { sessionId: NO_SESSION });
    }

    it("the broadcast first: device:auth, held before it reads the latest push, does not send it again", async () => {
      const key = createWalletKey();
      const device = await pair(key);
      const socket = await clients.connect("device");
      const requests = new Inbox<{ sessionId: string; request: PushRequest }>(socket, "push:request");
      const challenge = (await emitAck(socket, "device:challenge", {
        deviceId: device.id,
      })) as unknown as ChallengeView;
      const signed = await signDeviceChallenge(key, challenge, new URL(app.baseUrl).host);

      const latestKey = `push-latest:${key.address.toLowerCase()}`;
      const read = hold(app.ctx.stores.keyValues, "get", (k) => k === latestKey, "before");
      let markChecked: () => void = () => undefined;
      const checked = new Promise<void>((resolve) => (markChecked = resolve));
      const readOpenPush = app.ctx.login.readOpenPush;
      app.ctx.login.readOpenPush = async (...args) => {
        const session = await readOpenPush.apply(app.ctx.login, args);
        markChecked();
        return session;
      };
      try {
        // Authenticated and in the device's rooms, but not yet looked for an open push.
        expect(await emitAck(socket, "device:auth", signed)).toMatchObject({ ok: true });
        await read.entered;
        const browser = await startedPush(key.address);
        const { sessionId } = browser.session;
        await requests.waitFor((r) => r.sessionId === sessionId);
        // Now device:auth finds the push open, and it was already sent to this socket.
        read.open();
        await checked;
        await fence(socket);
        expect(requests.items.filter((r) => r.sessionId === sessionId)).toHaveLength(1);
        // Opened and answered as usual.
        expect(await emitAck(socket, "push:open", { sessionId })).toMatchObject({ ok: true });
      } finally {
        read.restore();
        app.ctx.login.readOpenPush = readOpenPush;
      }
    });

    it("device:auth first: the broadcast, held after the push became the latest, skips the socket that has it", async () => {
      const key = createWalletKey();
      const device = await pair(key);
      // A socket of the device from before the push: it hears the broadcast when it is let go.
      const earlier = await connectDevice(key, device);
      const latestKey = `push-latest:${key.address.toLowerCase()}`;
      const swap = hold(app.ctx.stores.keyValues, "swap", (k) => k === latestKey, "after");
      try {
        const browser = await startedPush(key.address);
        const { sessionId } = browser.session;
        await swap.entered;
        // Authenticates while the push is the latest and open, and gets it from device:auth.
        const phone = await connectDevice(key, device);
        await phone.requests.waitFor((r) => r.sessionId === sessionId);
        swap.open();
        await earlier.requests.waitFor((r) => r.sessionId === sessionId);
        await fence(phone.socket);
        await fence(earlier.socket);
        expect(phone.requests.items.filter((r) => r.sessionId === sessionId)).toHaveLength(1);
        expect(earlier.requests.items.filter((r) => r.sessionId === sessionId)).toHaveLength(1);
      } finally {
        swap.restore();
      }
    });

    it("a socket holding a push the store forgot is told push:closed expired (store_reset), once", async () => {
      const key = createWalletKey();
      const device = await pair(key);
      const phone = await connectDevice(key, device);
      const older = await startedPush(key.address);
      await phone.requests.waitFor((r) => r.sessionId === older.session.sessionId);
      // A push that closed before is not announced again.
      const { sessionId } = (await startedPush(key.address)).session;
      await phone.closed.waitFor((e) => e.sessionId === older.session.sessionId && e.state === "suspended");
      await phone.requests.waitFor((r) => r.sessionId === sessionId);

      // What the server does when the store comes back without its records (stores.onReset).
      await closeForgottenPushes(app.ctx.io, { isForgotten: async () => true });
      const told = await phone.closed.waitFor((e) => e.sessionId === sessionId);
      expect(told).toEqual<PushClosedEvent>({ sessionId, state: "expired", reason: "store_reset" });
      await closeForgottenPushes(app.ctx.io, { isForgotten: async () => true });
      await fence(phone.socket);
      expect(phone.closed.items.filter((e) => e.sessionId === older.session.sessionId)).toHaveLength(1);
      expect(phone.closed.items.filter((e) => e.sessionId === sessionId)).toHaveLength(1);
    });
  });
}
