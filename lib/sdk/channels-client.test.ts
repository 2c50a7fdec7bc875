import { createServer } from "node:http";
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import type { Socket as ServerSocket } from "socket.io";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ChannelSubscribePayload } from "../protocol/channels";
import { createChannelsClient } from "./channels-client";
import type { ChannelsClient, PresenceMember } from "./channels-client";

/**
 * A tiny server that keeps the contract of docs/protocol.md section 2: `connection:established`,
 * `/api/channel-auth` (tokens are "token-<userId>"), `channel:subscribe` checking the auth
 * against the socket's own id, presence members counted per user.
 */
async function startFakeServer() {
  let nextSocket = 1;
  const authRequests: Array<{ socket_id: string; channel_name: string; user: string }> = [];
  const sign = (socketId: string, channel: string, channelData?: string) =>
    `key:${socketId}:${channel}${channelData === undefined ? "" : `:${channelData}`}`;
  /** channel -> userId -> [user_info, connection count] */
  const presence = new Map<string, Map<string, { info: unknown; sockets: number }>>();

  const http: HttpServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "POST" || req.url !== "/api/channel-auth") return send(404, { error: { code: "not_found" } });
    let raw = "";
    req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
    req.on("end", () => {
      const user = /^Bearer token-(\w+)$/.exec(req.headers.authorization ?? "")?.[1];
      if (!user) return send(401, { error: { code: "invalid_token", message: "No valid token." } });
      const body = JSON.parse(raw) as { socket_id: string; channel_name: string };
      authRequests.push({ ...body, user });
      if (body.channel_name.startsWith("private-user-") && body.channel_name !== `private-user-${user}`) {
        return send(403, { error: { code: "forbidden", message: "Not yours." } });
      }
      if (body.channel_name.startsWith("presence-")) {
        const channelData = JSON.stringify({ user_id: user, user_info: { address: `0x${user}` } });
        return send(200, { auth: sign(body.socket_id, body.channel_name, channelData), channel_data: channelData });
      }
      send(200, { auth: sign(body.socket_id, body.channel_name) });
    });
  });
  const io = new Server(http, { path: "/socket.io", transports: ["websocket"] });
  const sockets = new Map<string, ServerSocket>();
  /** How many subscribes to refuse as `unavailable` (the server's Redis away). */
  const control = {
    unavailableSubscribes: 0,
    /**
     * Presence changes announced to the subscribing socket after its snapshot was read and
     * before its ack, as a member on another node joining or leaving in between.
     */
    announcedBeforeAck: [] as Array<{ event: "presence:member_added" | "presence:member_removed"; userId: string }>,
  };

  io.on("connection", (socket) => {
    const socketId = `${nextSocket++}.${Math.floor(Math.random() * 1e6)}`;
    sockets.set(socketId, socket);
    const memberships = new Map<string, string>();
    socket.emit("connection:established", { socket_id: socketId });

    const leave = (channel: string) => {
      void socket.leave(`ch:${channel}`);
      const userId = memberships.get(channel);
      memberships.delete(channel);
      const members = presence.get(channel);
      const member = userId === undefined ? undefined : members?.get(userId);
      if (!members || !member || userId === undefined) return;
      if (--member.sockets === 0) {
        members.delete(userId);
        io.to(`ch:${channel}`).emit("presence:member_removed", { channel, user_id: userId });
      }
    };

    socket.on("channel:subscribe", (payload: ChannelSubscribePayload, ack: (res: unknown) => void) => {
      const { channel, auth, channel_data: channelData } = payload;
      const fail = (code: string) => ack({ ok: false, error: { code, message: code } });
      if (control.unavailableSubscribes > 0) {
        control.unavailableSubscribes--;
        return fail("unavailable");
      }
      if (!channel.startsWith("private-") && !channel.startsWith("presence-")) {
        void socket.join(`ch:${channel}`);
        return ack({ ok: true, channel });
      }
      if (auth !== sign(socketId, channel, channelData)) return fail("invalid_auth");
      void socket.join(`ch:${channel}`);
      if (!channel.startsWith("presence-")) return ack({ ok: true, channel });
      const { user_id: userId, user_info: info } = JSON.parse(channelData!) as { user_id: string; user_info: unknown };
      const members = presence.get(channel) ?? new Map<string, { info: unknown; sockets: number }>();
      presence.set(channel, members);
      const member = members.get(userId);
      memberships.set(channel, userId);
      if (member) member.sockets++;
      else {
        members.set(userId, { info, sockets: 1 });
        socket.to(`ch:${channel}`).emit("presence:member_added", { channel, user_id: userId, user_info: info });
      }
      const hash = Object.fromEntries([...members].map(([id, m]) => [id, m.info]));
      for (const { event, userId: changed } of control.announcedBeforeAck.splice(0)) {
        socket.emit(event, { channel, user_id: changed, user_info: { address: `0x${changed}` } });
      }
      ack({ ok: true, channel, presence: { ids: Object.keys(hash), hash, count: members.size } });
    });
    socket.on("channel:unsubscribe", ({ channel }: { channel: string }) => leave(channel));
    socket.on("disconnect", () => {
      sockets.delete(socketId);
      for (const channel of [...memberships.keys()]) leave(channel);
    });
  });

  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    authRequests,
    control,
    sockets,
    trigger: (channel: string, event: string, data: string) =>
      io.to(`ch:${channel}`).emit("channel:event", { channel, event, data }),
    close: () => new Promise<void>((resolve) => void io.close(() => resolve())),
  };
}

type FakeServer = Awaited<ReturnType<typeof startFakeServer>>;

async function waitFor<T>(read: () => T | undefined | false, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const ids = (members: PresenceMember[]) => members.map((m) => m.id).sort();

describe("createChannelsClient", () => {
  let server: FakeServer;
  const clients: ChannelsClient[] = [];
  const client = (user: string | null) => {
    const created = createChannelsClient({
      endpoint: server.endpoint,
      getAccessToken: async () => (user === null ? null : `token-${user}`),
      io: { reconnectionDelay: 50, reconnectionDelayMax: 100 },
    });
    clients.push(created);
    return created;
  };

  beforeEach(async () => {
    server = await startFakeServer();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server.close();
  });

  it("tries a subscribe refused as unavailable again by itself, on the same connection", async () => {
    server.control.unavailableSubscribes = 2;
    const c = client("ann");
    const sub = c.subscribe("presence-retry");
    const errors: string[] = [];
    sub.onError((error) => errors.push(error.code));
    await waitFor(() => sub.isSubscribed(), 10_000);
    expect(errors).toEqual(["unavailable", "unavailable"]);
    expect(ids(sub.members())).toEqual(["ann"]);
    expect(server.sockets.size).toBe(1);
  });

  it("learns the socket id and delivers public channel events, parsed when JSON", async () => {
    const c = client(null);
    const sub = c.subscribe("news");
    const received: unknown[] = [];
    sub.bind("update", (data) => received.push(data));
    await waitFor(() => sub.isSubscribed());
    expect(c.getSocketId()).toMatch(/^\d+\.\d+$/);
    expect(server.authRequests).toHaveLength(0);
    server.trigger("news", "update", JSON.stringify({ n: 1 }));
    server.trigger("news", "update", "plain text");
    server.trigger("news", "other", "ignored");
    await waitFor(() => received.length === 2);
    expect(received).toEqual([{ n: 1 }, "plain text"]);
  });

  it("signs private channels for its own socket id with the Bearer token, and reports refusals", async () => {
    const c = client("alice");
    const mine = c.subscribe("private-user-alice");
    const theirs = c.subscribe("private-user-bob");
    const errors: string[] = [];
    theirs.onError((error) => errors.push(error.code));
    await waitFor(() => mine.isSubscribed());
    await waitFor(() => errors.length > 0);
    expect(errors).toEqual(["forbidden"]);
    expect(theirs.isSubscribed()).toBe(false);
    expect(server.authRequests[0]).toMatchObject({ socket_id: c.getSocketId(), user: "alice" });

    const got: unknown[] = [];
    mine.bind("notification", (data) => got.push(data));
    server.trigger("private-user-alice", "notification", JSON.stringify({ title: "hi" }));
    await waitFor(() => got.length === 1);
    expect(got).toEqual([{ title: "hi" }]);
  });

  it("reports no_token when signed out", async () => {
    const c = client(null);
    const sub = c.subscribe("private-stuff");
    const errors: string[] = [];
    sub.onError((error) => errors.push(error.code));
    await waitFor(() => errors.length > 0);
    expect(errors).toEqual(["no_token"]);
  });

  it("keeps presence members up to date: snapshot, added, removed", async () => {
    const alice = client("alice");
    const aliceSub = alice.subscribe("presence-room");
    const changes: string[][] = [];
    aliceSub.onMembersChange((members) => changes.push(ids(members)));
    await waitFor(() => aliceSub.isSubscribed());
    expect(aliceSub.members()).toEqual([{ id: "alice", info: { address: "0xalice" } }]);

    const bob = client("bob");
    const bobSub = bob.subscribe("presence-room");
    await waitFor(() => bobSub.isSubscribed());
    expect(ids(bobSub.members())).toEqual(["alice", "bob"]);
    await waitFor(() => aliceSub.members().length === 2);
    expect(aliceSub.members()).toContainEqual({ id: "bob", info: { address: "0xbob" } });

    // A second connection of bob's is the same member.
    const bob2 = client("bob");
    const bob2Sub = bob2.subscribe("presence-room");
    await waitFor(() => bob2Sub.isSubscribed());
    expect(ids(bob2Sub.members())).toEqual(["alice", "bob"]);
    bob2.close();
    bob.close();
    await waitFor(() => aliceSub.members().length === 1);
    expect(ids(aliceSub.members())).toEqual(["alice"]);
    expect(changes.at(-1)).toEqual(["alice"]);
  });

  it("applies presence changes heard before the subscribe's ack on top of its snapshot", async () => {
    const bob = client("bob");
    await waitFor(() => bob.subscribe("presence-race").isSubscribed());
    const alice = client("alice");
    // Bob leaves and carol joins after alice's snapshot was read, before its ack.
    server.control.announcedBeforeAck.push(
      { event: "presence:member_added", userId: "carol" },
      { event: "presence:member_removed", userId: "bob" },
    );
    const room = alice.subscribe("presence-race");
    await waitFor(() => room.isSubscribed());
    expect(ids(room.members())).toEqual(["alice", "carol"]);
  });

  it("shares one server subscription between handles and leaves with the last", async () => {
    const alice = client("alice");
    const bob = client("bob");
    const bobSub = bob.subscribe("presence-room");
    await waitFor(() => bobSub.isSubscribed());

    const first = alice.subscribe("presence-room");
    const second = alice.subscribe("presence-room");
    const firstEvents: unknown[] = [];
    const secondEvents: unknown[] = [];
    first.bind("ping", (data) => firstEvents.push(data));
    second.bind("ping", (data) => secondEvents.push(data));
    await waitFor(() => first.isSubscribed() && second.isSubscribed());
    await waitFor(() => bobSub.members().length === 2);
    expect(server.authRequests.filter((r) => r.user === "alice")).toHaveLength(1);

    first.unsubscribe();
    server.trigger("presence-room", "ping", "1");
    await waitFor(() => secondEvents.length === 1);
    expect(firstEvents).toEqual([]);
    expect(ids(bobSub.members())).toEqual(["alice", "bob"]);

    second.unsubscribe();
    await waitFor(() => bobSub.members().length === 1);
    expect(ids(bobSub.members())).toEqual(["bob"]);
  });

  it("re-subscribes everything with fresh auth after a reconnect", async () => {
    const alice = client("alice");
    const priv = alice.subscribe("private-user-alice");
    const room = alice.subscribe("presence-room");
    const pub = alice.subscribe("news");
    const got: unknown[] = [];
    priv.bind("notification", (data) => got.push(data));
    pub.bind("update", (data) => got.push(data));
    await waitFor(() => priv.isSubscribed() && room.isSubscribed() && pub.isSubscribed());
    const firstId = alice.getSocketId();
    const resubscribed: string[] = [];
    priv.onSubscribed(() => resubscribed.push("private"));
    room.onSubscribed(() => resubscribed.push("presence"));

    // Drop the transport (not a server-side disconnect, which socket.io does not retry).
    alice.socket.io.engine.close();
    await waitFor(() => resubscribed.length === 2 && pub.isSubscribed());
    const secondId = alice.getSocketId();
    expect(secondId).toBeDefined();
    expect(secondId).not.toBe(firstId);
    expect(
      server.authRequests
        .filter((r) => r.socket_id === secondId)
        .map((r) => r.channel_name)
        .sort(),
    ).toEqual(["presence-room", "private-user-alice"]);
    expect(ids(room.members())).toEqual(["alice"]);

    server.trigger("private-user-alice", "notification", JSON.stringify({ title: "after" }));
    server.trigger("news", "update", "fresh");
    await waitFor(() => got.length === 2);
    expect(got).toEqual([{ title: "after" }, "fresh"]);
  });
});
