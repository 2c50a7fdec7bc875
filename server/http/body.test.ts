import type { AddressInfo } from "node:net";
import { request } from "node:http";
import { connect } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { declaredBodyLimit, readBodyBytes, readJsonBody } from "./body";

// A real @hono/node-server in front of the readers: they read Node's IncomingMessage directly.
const app = new Hono();
app.use(
  "*",
  declaredBodyLimit(100, (path) => path === "/raw-unlimited"),
);
app.post("/json", async (c) => {
  const body = await readJsonBody(c, z.object({ name: z.string() }).strict(), 100);
  return body.ok ? c.json({ got: body.data.name }) : body.response;
});
app.post("/raw-unlimited", async (c) => {
  const body = await readBodyBytes(c, 1000);
  return body.ok ? c.json({ bytes: body.bytes.length }) : c.json({ code: body.code }, 413);
});
app.post("/ignores-body", (c) => c.json({ ok: true }));
app.get("/ignores-body", (c) => c.json({ ok: true }));
/** What the slow reader's read resolved to, once it has. */
const slowReads: string[] = [];
app.post("/slow-reader", async (c) => {
  await new Promise((resolve) => setTimeout(resolve, 150)); // e.g. a token check
  const body = await readBodyBytes(c, 1000);
  slowReads.push(body.ok ? "ok" : body.code);
  return c.json({});
});

const server = createAdaptorServer({ fetch: app.fetch });
let port = 0;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** POST `chunks` one write each; with `chunked`, no Content-Length (Transfer-Encoding: chunked). */
function post(path: string, chunks: string[], chunked = false) {
  return new Promise<{ status: number; body: unknown; connection: string | undefined }>((resolve, reject) => {
    const total = chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path,
        headers: { "content-type": "application/json", ...(chunked ? {} : { "content-length": total }) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(text) as unknown,
            connection: res.headers.connection,
          }),
        );
      },
    );
    req.on("error", (err: NodeJS.ErrnoException) => {
      // The server may close before it has read all of an oversized body.
      if (err.code !== "ECONNRESET" && err.code !== "EPIPE") reject(err);
    });
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe("request bodies", () => {
  it("reads and checks a JSON body under the limit, with or without Content-Length", async () => {
    expect((await post("/json", ['{"name":', '"ada"}'])).body).toEqual({ got: "ada" });
    expect((await post("/json", ['{"name":', '"ada"}'], true)).body).toEqual({ got: "ada" });
  });

  it("answers invalid_request to malformed JSON, an empty body and a body the schema refuses", async () => {
    for (const body of ['{"name":', "", '{"name":1}', '{"name":"a","x":1}']) {
      const res = await post("/json", [body]);
      expect(res.status, body).toBe(400);
      expect(res.body).toMatchObject({ error: { code: "invalid_request" } });
    }
  });

  it("refuses a declared Content-Length over the limit before any route runs, and closes the connection", async () => {
    const res = await post("/ignores-body", ["x".repeat(101)]);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: { code: "payload_too_large" } });
    expect(res.connection).toBe("close");
  });

  it("refuses a chunked body once it passes the limit while reading", async () => {
    const res = await post("/json", [`{"name":"${"x".repeat(60)}`, `${"x".repeat(60)}"}`], true);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: { code: "payload_too_large" } });
    expect(res.connection).toBe("close");
  });

  it("drops a leading byte-order mark, as the WHATWG decoder does", async () => {
    expect((await post("/json", ['\ufeff{"name":"bom"}'])).body).toEqual({ got: "bom" });
  });

  it("lets GET through whatever Content-Length it declares (no route reads a GET body)", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, method: "GET", path: "/ignores-body", headers: { "content-length": 200 } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end("z".repeat(200));
    });
    expect(status).toBe(200);
  });

  it("settles a read that starts after the client has gone", async () => {
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(
      "POST /slow-reader HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{",
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    socket.destroy();
    await expect.poll(() => slowReads, { timeout: 3000 }).toEqual(["invalid_request"]);
  });

  it("lets a skipped path set its own limit", async () => {
    expect((await post("/raw-unlimited", ["y".repeat(900)])).body).toEqual({ bytes: 900 });
    expect((await post("/raw-unlimited", ["y".repeat(600), "y".repeat(600)], true)).status).toBe(413);
  });
});
