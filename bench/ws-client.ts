/**
 * A minimal Socket.IO client for the channels benchmark: one WebSocket (RFC 6455) over node:net,
 * speaking Engine.IO v4 and the Socket.IO v5 packet format, nothing else (no reconnection, no
 * polling, no binary packets, no namespaces but "/"). socket.io-client costs several times the
 * CPU per received message, and the subscribers share two cores with the server under test.
 *
 * What it does:
 * - `GET /socket.io/?EIO=4&transport=websocket` upgrade (Sec-WebSocket-Accept checked), waits for
 *   the Engine.IO open packet `0{...}`, sends the Socket.IO connect `40`, and resolves once the
 *   connect answer `40{...}` arrived (and, when asked, the server's `connection:established`).
 * - Answers Engine.IO pings (`2` -> `3`) and WebSocket pings; client frames are masked.
 * - Server events `42["name",payload]` go to `onEvent` as raw text with the time the chunk
 *   holding them was read (`nowMs()`, CLOCK_MONOTONIC, comparable across processes), so a
 *   caller decides what to parse; acks `43<id>[...]` resolve `emitWithAck`.
 */
import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

/** Milliseconds on CLOCK_MONOTONIC (libuv's hrtime): one clock for every process on the machine. */
export const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

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
  isOpen = false;
  isClosed = false;
  /** Why it closed, when it was not our own close(). */
  closeReason: string | undefined;
  private pending: Buffer | null = null;
  private fragments: Buffer[] = [];
  private nextAckId = 0;
  private readonly acks = new Map<number, (payload: unknown) => void>();
  private onClosed: ((reason: string) => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly onEvent: ((text: string, at: number) => void) | undefined,
  ) {}

  static open(options: MiniSocketOptions): Promise<MiniSocket> {
    const url = new URL(options.url);
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    socket.setNoDelay(true);
    const mini = new MiniSocket(socket, options.onEvent);
    return new Promise((resolve, reject) => {
      let isSettled = false;
      let hasConnected = false;
      const settle = (err?: Error) => {
        if (isSettled) return;
        isSettled = true;
        clearTimeout(timer);
        if (err) {
          socket.destroy();
          reject(err);
        } else resolve(mini);
      };
      const timer = setTimeout(() => settle(new Error("connect timeout")), options.timeoutMs);
      const maybeReady = () => {
        if (hasConnected && (!options.waitForSocketId || mini.socketId)) settle();
      };
      mini.onClosed = (reason) => settle(new Error(`closed while connecting: ${reason}`));
      mini.onConnectPacket = () => {
        hasConnected = true;
        maybeReady();
      };
      mini.onEstablished = maybeReady;
      socket.once("error", (err) => {
        mini.close(`socket error: ${err.message}`);
        settle(err);
      });
      socket.once("close", () => mini.close("socket closed"));

      const key = randomBytes(16).toString("base64");
      const expectedAccept = createHash("sha1")
        .update(key + WS_GUID)
        .digest("base64");
      let head = Buffer.alloc(0);
      const onHandshake = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        socket.off("data", onHandshake);
        const lines = head.subarray(0, end).toString("latin1").split("\r\n");
        const accept = lines.find((l) => l.toLowerCase().startsWith("sec-websocket-accept:"));
        if (!lines[0]?.startsWith("HTTP/1.1 101") || accept?.slice(21).trim() !== expectedAccept) {
          settle(new Error(`websocket upgrade refused: ${lines[0] ?? "no answer"}`));
          return;
        }
        mini.isOpen = true;
        socket.on("data", (data: Buffer) => mini.read(data));
        const rest = head.subarray(end + 4);
        if (rest.length > 0) mini.read(rest);
      };
      socket.on("data", onHandshake);
      socket.once("connect", () => {
        socket.write(
          `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
            `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
    });
  }

  private onConnectPacket: () => void = () => {};
  private onEstablished: () => void = () => {};

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
      this.sendText(`42${id}${JSON.stringify([event, payload])}`);
    });
  }

  /**
   * Closes the connection: without a reason it is our own close (a WebSocket close frame, then
   * the end of the TCP socket); with one, something went wrong and `closeReason` keeps it.
   */
  close(reason?: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeReason = reason;
    const wasOpen = this.isOpen;
    this.isOpen = false;
    if (reason === undefined && wasOpen && !this.socket.destroyed) {
      this.writeFrame(0x8, Buffer.from([0x03, 0xe8]));
      this.socket.end();
    } else this.socket.destroy();
    this.onClosed?.(reason ?? "closed by us");
  }

  private sendText(text: string): void {
    if (this.isOpen) this.writeFrame(0x1, Buffer.from(text, "utf8"));
  }

  /** One FIN frame, masked (RFC 6455 5.3: every client frame is). */
  private writeFrame(opcode: number, payload: Buffer): void {
    const length = payload.length;
    const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(headerLength + 4 + length);
    frame[0] = 0x80 | opcode;
    if (length < 126) frame[1] = 0x80 | length;
    else if (length < 65_536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(length), 2);
    }
    const mask = randomBytes(4);
    mask.copy(frame, headerLength);
    const start = headerLength + 4;
    for (let i = 0; i < length; i++) frame[start + i] = payload[i]! ^ mask[i & 3]!;
    this.socket.write(frame);
  }

  /** Splits what arrived into frames; a frame cut across chunks waits for the rest. */
  private read(chunk: Buffer): void {
    const at = nowMs();
    const buffer = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let offset = 0;
    for (;;) {
      const available = buffer.length - offset;
      if (available < 2) break;
      const b0 = buffer[offset]!;
      const b1 = buffer[offset + 1]!;
      if (b1 & 0x80) return this.close("masked frame from the server");
      let length = b1 & 0x7f;
      let headerLength = 2;
      if (length === 126) {
        if (available < 4) break;
        length = buffer.readUInt16BE(offset + 2);
        headerLength = 4;
      } else if (length === 127) {
        if (available < 10) break;
        length = Number(buffer.readBigUInt64BE(offset + 2));
        headerLength = 10;
      }
      if (available < headerLength + length) break;
      const payload = buffer.subarray(offset + headerLength, offset + headerLength + length);
      offset += headerLength + length;
      this.onFrame((b0 & 0x80) !== 0, b0 & 0x0f, payload, at);
      if (!this.isOpen) return;
    }
    // Copied, so a large chunk is not kept alive by its unread tail.
    this.pending = offset < buffer.length ? Buffer.from(buffer.subarray(offset)) : null;
  }

  private onFrame(isFinal: boolean, opcode: number, payload: Buffer, at: number): void {
    if (opcode === 0x8) return this.close("close frame from the server");
    if (opcode === 0x9) return this.writeFrame(0xa, Buffer.from(payload));
    if (opcode === 0xa) return;
    if (!isFinal || opcode === 0x0) {
      this.fragments.push(Buffer.from(payload));
      if (!isFinal) return;
      payload = Buffer.concat(this.fragments);
      this.fragments = [];
    }
    this.onPacket(payload.toString("utf8"), at);
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
          this.onEstablished();
          return;
        }
        this.onEvent?.(text.slice(2), at);
      } else if (kind === 0x33 /* "3": ack */) {
        const bracket = text.indexOf("[");
        const id = Number(text.slice(2, bracket));
        const [answer] = JSON.parse(text.slice(bracket)) as [unknown];
        this.acks.get(id)?.(answer);
        this.acks.delete(id);
      } else if (kind === 0x30 /* "0": connect */) {
        this.onConnectPacket();
      } else if (kind === 0x31 /* "1": disconnect */ || kind === 0x34 /* "4": connect_error */) {
        this.close(`socket.io ${kind === 0x31 ? "disconnect" : "connect_error"}: ${text.slice(2)}`);
      }
    } else if (type === 0x30 /* "0": open */) {
      this.sendText("40");
    } else if (type === 0x32 /* "2": ping */) {
      this.sendText("3");
    } else if (type === 0x31 /* "1": close */) {
      this.close("engine.io close");
    }
  }
}
