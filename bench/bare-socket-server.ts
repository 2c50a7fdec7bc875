/**
 * The bare Socket.IO peer of the benchmarks. `PORT` and `HOST` from the environment.
 *
 * - Default (memory benchmark): websocket transport, nothing else (no middleware, no handlers, no
 *   rooms).
 * - `BARE_CHANNELS=1` (channels benchmark): the same channel wire protocol as ours done the
 *   trivial way, with no auth, no checks beyond JSON parsing, no store:
 *   - on connect, `connection:established` `{socket_id}` (the socket's own id);
 *   - `channel:subscribe` `{channel, channel_data?}` -> join the room named after the channel
 *     and ack `{ok, channel, presence?}`; with channel_data the socket is that user, announced
 *     once per user (`presence:member_added` to the room except the joiner);
 *   - `channel:unsubscribe` `{channel}` (and disconnect) -> leave, and `presence:member_removed`
 *     once the user's last socket left;
 *   - `POST /trigger` `{name, data, channels}` -> `io.to(channel).emit("channel:event", ...)` per
 *     channel, `200 {}`: the equally trivial HTTP handler beside our signed REST trigger;
 *   - `GET /presence-count?channel=...` -> `{user_count}`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, type Socket } from "socket.io";

const hasChannels = process.env.BARE_CHANNELS === "1";
const httpServer = hasChannels ? createServer(handleRequest) : createServer();
const io = new Server(httpServer, { transports: ["websocket"] });

/** channel -> user id -> [user_info, sockets] */
const presence = new Map<string, Map<string, { info: unknown; sockets: number }>>();
/** socket -> channel -> its presence user id on that channel */
const presenceOf = new WeakMap<Socket, Map<string, string>>();

function handleRequest(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? "/", "http://bare");
  if (req.method === "GET" && url.pathname === "/presence-count") {
    const count = presence.get(url.searchParams.get("channel") ?? "")?.size ?? 0;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ user_count: count }));
    return;
  }
  if (req.method !== "POST" || url.pathname !== "/trigger") {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        name: string;
        data: string;
        channels: string[];
      };
      for (const channel of body.channels)
        io.to(channel).emit("channel:event", { channel, event: body.name, data: body.data });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    } catch {
      res.writeHead(400).end();
    }
  });
}

function leave(socket: Socket, channel: string) {
  void socket.leave(channel);
  const userId = presenceOf.get(socket)?.get(channel);
  if (userId === undefined) return;
  presenceOf.get(socket)?.delete(channel);
  const members = presence.get(channel);
  const member = members?.get(userId);
  if (!members || !member) return;
  if (--member.sockets > 0) return;
  members.delete(userId);
  if (members.size === 0) presence.delete(channel);
  io.to(channel).emit("presence:member_removed", { channel, user_id: userId });
}

if (hasChannels) {
  io.on("connection", (socket) => {
    socket.emit("connection:established", { socket_id: socket.id });
    socket.on("channel:subscribe", (payload: { channel: string; channel_data?: string }, ack: (r: unknown) => void) => {
      const { channel } = payload;
      void socket.join(channel);
      if (payload.channel_data === undefined) return ack({ ok: true, channel });
      const { user_id: userId, user_info: info } = JSON.parse(payload.channel_data) as {
        user_id: string;
        user_info?: unknown;
      };
      let members = presence.get(channel);
      if (!members) presence.set(channel, (members = new Map()));
      let mine = presenceOf.get(socket);
      if (!mine) presenceOf.set(socket, (mine = new Map()));
      if (mine.get(channel) === undefined) {
        mine.set(channel, String(userId));
        const member = members.get(String(userId));
        if (member) member.sockets++;
        else {
          members.set(String(userId), { info: info ?? null, sockets: 1 });
          socket
            .to(channel)
            .emit("presence:member_added", { channel, user_id: String(userId), user_info: info ?? null });
        }
      }
      const hash = Object.fromEntries([...members].map(([id, m]) => [id, m.info]));
      ack({ ok: true, channel, presence: { ids: Object.keys(hash), hash, count: members.size } });
    });
    socket.on("channel:unsubscribe", (payload: { channel: string }, ack?: (r: unknown) => void) => {
      leave(socket, payload.channel);
      ack?.({ ok: true });
    });
    socket.on("disconnecting", () => {
      for (const channel of [...(presenceOf.get(socket)?.keys() ?? [])]) leave(socket, channel);
    });
  });
}

httpServer.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  // The harness that started it learns its address (test/support/server-process.ts).
  const { address, port } = httpServer.address() as AddressInfo;
  process.send?.({ type: "listening", url: `http://${address}:${port}` });
});

process.on("SIGTERM", () => {
  io.close(() => process.exit(0));
});
