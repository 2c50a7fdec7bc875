/**
 * The channels benchmark's Socket.IO client: the `ws` WebSocket client with the Engine.IO v4 and
 * Socket.IO v5 text packets on top (websocket transport only, namespace "/", no reconnection, no
 * binary packets). socket.io-client costs several times the CPU per received message (it parses
 * every packet into objects and runs its emitter chain), and the subscribers share two cores with
 * the server under test; here a caller gets each event's raw text and parses only what it checks.
 *
 * `ws` as measured: no permessage-deflate (the servers have it off too) and no UTF-8 validation of
 * incoming text (the servers under test are ours).
 *
 * - Connects to `/socket.io/?EIO=4&transport=websocket`, answers the Engine.IO open packet with the
 *   Socket.IO connect `40`, and resolves once `40{...}` came back (and, when asked, the server's
 *   `connection:established`, whose socket_id it keeps).
 * - Answers Engine.IO pings (`2` -> `3`); `ws` answers WebSocket pings.
 * - Server events `42["name",payload]` go to `onEvent` as the text after `42`, with the time the
 *   message was read (`nowMs()`, CLOCK_MONOTONIC, comparable across processes); acks `43<id>[...]`
 *   resolve `emitWithAck`.
 */
import { WebSocket } from "ws";

/** Milliseconds on CLOCK_MONOTONIC (libuv's hrtime): one clock for every process on the machine. */
export const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

export interface MiniSocketOptions {
  url: string;
  /** Called for every server event packet (`42...`), with the text after the `42`. */
  onEvent?: (text: string, at: number) => void;
  /** Also wait for `connection:established` and keep its socket_id (our server sends it). */
  waitForSocketId: boolean;
  timeoutMs: number;
}

export class MiniSocket {
  socketId = "";
  /** Why it closed, when it was not our own close(). */
  closeReason: string | undefined;
  private isClosed = false;
  private hasConnected = false;
  private nextAckId = 0;
  private readonly acks = new Map<number, (answer: unknown) => void>();
  private onConnected: () => void = () => {};
  private onClosed: (reason: string) => void = () => {};

  private constructor(
    private readonly ws: WebSocket,
    private readonly options: MiniSocketOptions,
  ) {
    ws.on("message", (data: Buffer, isBinary) => {
      if (!isBinary) this.onPacket(data.toString("utf8"), nowMs());
    });
    ws.on("error", (err) => this.close(`socket error: ${err.message}`));
    ws.on("close", () => this.close("socket closed"));
  }

  static open(options: MiniSocketOptions): Promise<MiniSocket> {
    const url = new URL("/socket.io/?EIO=4&transport=websocket", options.url.replace(/^http/, "ws"));
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
    const socket = new MiniSocket(ws, options);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error("connect timeout")), options.timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.close(err.message);
        reject(err);
      };
      socket.onClosed = (reason) => fail(new Error(`closed while connecting: ${reason}`));
      socket.onConnected = () => {
        clearTimeout(timer);
        socket.onConnected = () => {};
        socket.onClosed = () => {};
        resolve(socket);
      };
    });
  }

  /** Sends a Socket.IO event and resolves with the first argument of the server's ack. */
  emitWithAck(event: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    const id = this.nextAckId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.acks.delete(id);
        reject(new Error(`${event}: no ack in ${timeoutMs} ms`));
      }, timeoutMs);
      this.acks.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      this.send(`42${id}${JSON.stringify([event, payload])}`);
    });
  }

  /**
   * Closes the connection: without a reason it is our own close (a WebSocket close handshake);
   * with one, something went wrong and `closeReason` keeps it.
   */
  close(reason?: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeReason = reason;
    if (reason === undefined && this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    else this.ws.terminate();
    this.onClosed(reason ?? "closed by us");
  }

  private send(text: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  /** Connected, and with its socket_id when asked to wait for it. */
  private maybeReady(): void {
    if (this.hasConnected && (this.socketId || !this.options.waitForSocketId)) this.onConnected();
  }

  /** One Engine.IO packet. */
  private onPacket(text: string, at: number): void {
    const type = text.charCodeAt(0);
    if (type === 0x34 /* "4": message */) {
      const kind = text.charCodeAt(1);
      if (kind === 0x32 /* "2": event */) {
        if (text.startsWith('42["connection:established"')) {
          const [, payload] = JSON.parse(text.slice(2)) as [string, { socket_id?: string }];
          this.socketId = payload.socket_id ?? "";
          this.maybeReady();
          return;
        }
        this.options.onEvent?.(text.slice(2), at);
      } else if (kind === 0x33 /* "3": ack */) {
        const bracket = text.indexOf("[");
        const id = Number(text.slice(2, bracket));
        const [answer] = JSON.parse(text.slice(bracket)) as [unknown];
        this.acks.get(id)?.(answer);
        this.acks.delete(id);
      } else if (kind === 0x30 /* "0": connect */) {
        this.hasConnected = true;
        this.maybeReady();
      } else if (kind === 0x31 /* "1": disconnect */ || kind === 0x34 /* "4": connect_error */) {
        this.close(`socket.io ${kind === 0x31 ? "disconnect" : "connect_error"}: ${text.slice(2)}`);
      }
    } else if (type === 0x30 /* "0": open */) {
      this.send("40");
    } else if (type === 0x32 /* "2": ping */) {
      this.send("3");
    } else if (type === 0x31 /* "1": close */) {
      this.close("engine.io close");
    }
  }
}
