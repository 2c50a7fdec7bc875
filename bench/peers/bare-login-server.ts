/**
 * The latency floor of the login benchmark: the login's wire done the trivial way, with nothing
 * checked and nothing stored beyond one Map entry per session. Driven by bench/login-load.ts at
 * the same rate as ours, in the same run, it shows what the machine, Node, Socket.IO and the load
 * generator take by themselves: wallet POST -> browser `login:state` cannot be faster than here.
 * `PORT` and `HOST` from the environment.
 *
 * - `login:start` -> ack `{ok, session}` (random ids, the session's socket remembered);
 * - `GET /api/auth/request/{id}` -> a `LoginRequest` (fixed fields, the session's nonce);
 * - `POST /api/auth` -> parse the JSON, emit `login:state` approved with a code to the session's
 *   socket, answer `200 {state}`: no signature check, no database, no store;
 * - `POST /api/auth/redeem` -> `200 {accessToken}` when the code matches;
 * - `GET /api/health` -> 200 (the generator opens its keep-alive connections with it).
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, type Socket } from "socket.io";
import type { LoginRequest, StartedSession } from "../../lib/protocol/login";

const MAX_BODY_BYTES = 16 * 1024;
const id = () => randomBytes(16).toString("hex");

interface BareSession {
  socket: Socket;
  nonce: string;
  code?: string;
}
const sessions = new Map<string, BareSession>();

const httpServer = createServer(handleRequest);
const io = new Server(httpServer, { transports: ["websocket"] });
const origin = () => `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>);
      } catch {
        resolve(undefined);
      }
    });
    req.on("error", () => resolve(undefined));
  });
}

async function handleRequest(req: IncomingMessage, res: ServerResponse) {
  const path = req.url ?? "/";
  if (req.method === "GET" && path === "/api/health") return send(res, 200, { ok: true });
  if (req.method === "GET" && path.startsWith("/api/auth/request/")) {
    const sessionId = path.slice("/api/auth/request/".length);
    const session = sessions.get(sessionId);
    if (!session) return send(res, 404, { error: { code: "session_not_found" } });
    const now = Date.now();
    const request: LoginRequest = {
      sessionId,
      appName: "Bare",
      domain: new URL(origin()).host,
      uri: origin(),
      version: "1",
      chainId: 1,
      nonce: session.nonce,
      issuedAt: new Date(now).toISOString(),
      expirationTime: new Date(now + 300_000).toISOString(),
      statement: "Sign in to the bare peer.",
      requestId: sessionId,
      responseUri: `${origin()}/api/auth`,
      matchMode: "choose",
      matchChoices: ["12", "34", "56"],
      requiredClaims: [],
    };
    return send(res, 200, request);
  }
  if (req.method === "POST" && path === "/api/auth") {
    const body = await readJson(req);
    const session = typeof body?.sessionId === "string" ? sessions.get(body.sessionId) : undefined;
    if (!session || typeof body?.signature !== "string") return send(res, 400, { error: { code: "invalid_request" } });
    session.code = id();
    session.socket.emit("login:state", { sessionId: body.sessionId, state: "approved", code: session.code });
    return send(res, 200, { state: "approved" });
  }
  if (req.method === "POST" && path === "/api/auth/redeem") {
    const body = await readJson(req);
    const sessionId = typeof body?.sessionId === "string" ? body.sessionId : "";
    const session = sessions.get(sessionId);
    if (!session?.code || body?.code !== session.code) return send(res, 400, { error: { code: "invalid_code" } });
    sessions.delete(sessionId);
    return send(res, 200, { accessToken: id(), tokenType: "Bearer", expiresIn: 900 });
  }
  send(res, 404, { error: { code: "not_found" } });
}

io.on("connection", (socket) => {
  socket.on("login:start", (_payload: unknown, ack: unknown) => {
    if (typeof ack !== "function") return;
    const sessionId = id();
    sessions.set(sessionId, { socket, nonce: id() });
    const session: StartedSession = {
      sessionId,
      requestUri: `${origin()}/api/auth/request/${sessionId}`,
      qr: "",
      state: "pending",
      expiresAt: new Date(Date.now() + 300_000).toISOString(),
      matchCode: "34",
      browserSecret: id(),
    };
    (ack as (reply: unknown) => void)({ ok: true, session });
  });
  socket.on("disconnect", () => {
    for (const [sessionId, session] of sessions) if (session.socket === socket) sessions.delete(sessionId);
  });
});

httpServer.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  // The harness that started it learns its address (test/support/server-process.ts).
  process.send?.({ type: "listening", url: origin() });
});
