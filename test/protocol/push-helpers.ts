/**
 * Clients for the push login suites (docs/protocol.md section 5): a wallet that pairs over HTTP,
 * a device socket that authenticates and records its pushes, and a page that asks for a push.
 * Every wait is bounded and event-driven.
 */
import type { Socket } from "socket.io-client";
import { expect } from "vitest";
import type { ChallengeView, DeviceView, PushClosedEvent, PushRequest } from "../../lib/protocol/push";
import { signDeviceChallenge, signPairingChallenge, type WalletKey } from "../../lib/wallet";
import { WAIT_MS, connectSocket, emitAck, postJson, StateRecorder, type BrowserSocket } from "./helpers";

/** Every event of one name a socket receives, with a wait for the next match. */
export class Inbox<T> {
  readonly items: T[] = [];
  private waiters: Array<{ match: (e: T) => boolean; resolve: (e: T) => void }> = [];
  constructor(socket: Socket, event: string) {
    socket.on(event, (item: T) => {
      this.items.push(item);
      this.waiters = this.waiters.filter((w) => (w.match(item) ? (w.resolve(item), false) : true));
    });
  }
  waitFor(match: (e: T) => boolean): Promise<T> {
    const seen = this.items.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`nothing matched in time; got ${JSON.stringify(this.items)}`)),
        WAIT_MS,
      );
      this.waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }
}

export interface StartedPush {
  sessionId: string;
  matchCode: string;
  browserSecret: string;
}

/**
 * The push clients of one test file. `baseUrlOf(role)` names the node each role talks to (one
 * server, or the nodes of a deployment); `publicUrl()` is the PUBLIC_URL the texts to sign name
 * (default: the wallet's node). Every socket opened is closed by `closeAll`.
 */
export function createPushClients(
  baseUrlOf: (role: "wallet" | "device" | "page") => string,
  publicUrl: () => string = () => baseUrlOf("wallet"),
) {
  const sockets: Socket[] = [];
  const domain = () => new URL(publicUrl()).host;

  async function connect(role: "device" | "page", headers?: Record<string, string>): Promise<Socket> {
    const { socket } = await connectSocket(baseUrlOf(role), headers ? { extraHeaders: headers } : {});
    sockets.push(socket as unknown as Socket);
    return socket as unknown as Socket;
  }

  async function pair(key: WalletKey, name?: string): Promise<DeviceView> {
    const base = baseUrlOf("wallet");
    const challenge = await postJson<ChallengeView>(`${base}/api/devices/challenge`, { address: key.address });
    expect(challenge.status).toBe(200);
    const signed = await signPairingChallenge(key, challenge.body, domain());
    const paired = await postJson<{ device: DeviceView }>(`${base}/api/devices`, {
      ...signed,
      ...(name ? { name } : {}),
    });
    expect(paired.status).toBe(201);
    return paired.body.device;
  }

  /** A device socket, authenticated, with its inboxes (listening before it authenticates). */
  async function connectDevice(key: WalletKey, device: DeviceView, headers?: Record<string, string>) {
    const socket = await connect("device", headers);
    const requests = new Inbox<{ sessionId: string; request: PushRequest }>(socket, "push:request");
    const closed = new Inbox<PushClosedEvent>(socket, "push:closed");
    const challenge = (await emitAck(socket, "device:challenge", { deviceId: device.id })) as unknown as {
      ok: true;
    } & ChallengeView;
    expect(challenge.ok).toBe(true);
    const signed = await signDeviceChallenge(key, challenge, domain());
    const auth = await emitAck(socket, "device:auth", signed);
    expect(auth).toMatchObject({ ok: true, device: { id: device.id, address: key.address } });
    return { socket, requests, closed };
  }

  /** A page asks for a push; its ack as it came. */
  async function pushFrom(address: string, headers?: Record<string, string>) {
    const socket = await connect("page", headers);
    const states = new StateRecorder(socket as unknown as BrowserSocket);
    const ack = await emitAck(socket, "login:push", { address });
    return { socket, states, ack };
  }

  /** A page asks for a push that must be accepted. */
  async function startedPush(address: string, headers?: Record<string, string>) {
    const browser = await pushFrom(address, headers);
    if (!browser.ack.ok) throw new Error(JSON.stringify(browser.ack));
    const session = (browser.ack as unknown as { session: StartedPush }).session;
    return { ...browser, session };
  }

  return {
    connect,
    pair,
    connectDevice,
    pushFrom,
    startedPush,
    closeAll() {
      for (const s of sockets) s.disconnect();
    },
  };
}
