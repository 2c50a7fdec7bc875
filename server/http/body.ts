/**
 * Request bodies, read straight from Node's IncomingMessage with a size limit.
 *
 * Why not Hono's `c.req.json()` or its `bodyLimit` middleware: on @hono/node-server both
 * materialise a full WHATWG Request (undici headers, an AbortSignal, a web stream over the
 * socket) for every POST, which cost about a tenth of the CPU of a login. Here:
 * - `declaredBodyLimit` refuses a declared Content-Length over the limit from the headers alone;
 * - `readBodyBytes`/`readBodyText` enforce the limit again while reading, for chunked bodies (no Content-Length);
 * - a body that is too large is not read further, and its connection is closed after the answer.
 * Every route that reads a body goes through these readers, so no route reads
 * an unbounded body.
 */
import type { IncomingMessage } from "node:http";
import type { Context, MiddlewareHandler } from "hono";
import type { HttpBindings } from "@hono/node-server";
import type { z } from "zod";
import { MAX_AUTH_BODY_BYTES } from "../../lib/protocol/login";
import { sendError } from "./respond";

/** The limit of every JSON body the API takes, except the Pusher API's batches (their own limit). */
export const MAX_API_BODY_BYTES = MAX_AUTH_BODY_BYTES;

export type BodyText = { ok: true; text: string } | { ok: false; code: "payload_too_large" | "invalid_request" };

function incomingOf(c: Context): IncomingMessage | undefined {
  return (c.env as HttpBindings | undefined)?.incoming;
}

function declaredLength(c: Context): number | undefined {
  const incoming = incomingOf(c);
  const header = incoming ? incoming.headers["content-length"] : c.req.header("content-length");
  if (header === undefined) return undefined;
  const length = Number(header);
  return Number.isFinite(length) ? length : undefined;
}

const METHODS_WITHOUT_BODY = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * 413 `payload_too_large` for a declared Content-Length over `maxBytes`; never reads the body.
 * GET, HEAD and OPTIONS are let through: no route reads their body (Node discards it).
 */
export function declaredBodyLimit(maxBytes: number, skip?: (path: string) => boolean): MiddlewareHandler {
  return async (c, next) => {
    if (METHODS_WITHOUT_BODY.has(c.req.method) || skip?.(c.req.path)) return next();
    const length = declaredLength(c);
    if (length !== undefined && length > maxBytes) {
      c.header("Connection", "close");
      return sendError(c, "payload_too_large");
    }
    return next();
  };
}

export type BodyBytes = { ok: true; bytes: Buffer } | { ok: false; code: "payload_too_large" | "invalid_request" };

/** The raw body, at most `maxBytes`; see the header for how the limit is enforced. */
export function readBodyBytes(c: Context, maxBytes: number): Promise<BodyBytes> {
  const incoming = incomingOf(c);
  if (!incoming) {
    // Not served by @hono/node-server (app.request() in a unit test): the Request is already built.
    return c.req.arrayBuffer().then(
      (buffer): BodyBytes =>
        buffer.byteLength > maxBytes
          ? { ok: false, code: "payload_too_large" }
          : { ok: true, bytes: Buffer.from(buffer) },
      (): BodyBytes => ({ ok: false, code: "invalid_request" }),
    );
  }
  return readIncomingBody(incoming, maxBytes).then((body) => {
    if (!body.ok && body.code === "payload_too_large") c.header("Connection", "close");
    return body;
  });
}

/**
 * The same on Node's request alone (for handlers outside Hono). On `payload_too_large` the rest of
 * the body is left unread: the caller must answer with `Connection: close`.
 */
export function readIncomingBody(incoming: IncomingMessage, maxBytes: number): Promise<BodyBytes> {
  const tooLarge = (): BodyBytes => {
    incoming.pause();
    return { ok: false, code: "payload_too_large" };
  };
  const header = incoming.headers["content-length"];
  if (header !== undefined && Number(header) > maxBytes) return Promise.resolve(tooLarge());
  if (incoming.readableEnded) return Promise.resolve({ ok: true, bytes: Buffer.alloc(0) });
  // The client may have gone while the route awaited something else: no event would come.
  if (incoming.destroyed || incoming.errored) return Promise.resolve({ ok: false, code: "invalid_request" });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyBytes) => {
      incoming.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) finish(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = () => finish({ ok: true, bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
    const onError = () => finish({ ok: false, code: "invalid_request" });
    // "close" before "end": the request was cut off (it also comes after "end", once finished).
    const onClose = () => finish({ ok: false, code: "invalid_request" });
    incoming.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
  });
}

/** The body as UTF-8 text, at most `maxBytes`; a leading byte-order mark is dropped, as WHATWG's decoder does. */
export async function readBodyText(c: Context, maxBytes: number): Promise<BodyText> {
  const body = await readBodyBytes(c, maxBytes);
  return body.ok ? { ok: true, text: decodeUtf8(body.bytes) } : body;
}

/** UTF-8 text of `bytes` without a leading byte-order mark. */
export function decodeUtf8(bytes: Buffer): string {
  const hasBom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return bytes.toString("utf8", hasBom ? 3 : 0);
}

export type Parsed<T> = { ok: true; data: T } | { ok: false; response: Response };

/** A JSON body of at most `maxBytes`, checked by `schema`; anything unparseable is `invalid_request`. */
export async function readJsonBody<T>(
  c: Context,
  schema: z.ZodType<T>,
  maxBytes = MAX_API_BODY_BYTES,
): Promise<Parsed<T>> {
  const body = await readBodyText(c, maxBytes);
  if (!body.ok) return { ok: false, response: sendError(c, body.code) };
  let raw: unknown;
  try {
    raw = JSON.parse(body.text);
  } catch {
    return { ok: false, response: sendError(c, "invalid_request") };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return { ok: false, response: sendError(c, "invalid_request") };
  return { ok: true, data: parsed.data };
}
