/*
 * Request ids: one per HTTP request and per socket event, in the answer's `X-Request-Id` header
 * and in every log line about it.
 *
 * Rules:
 * - An incoming `X-Request-Id` is taken only from a trusted proxy (TRUSTED_PROXIES, the rule of
 *   ./client-ip.ts), and only when it is 1-128 characters of `A-Z a-z 0-9 . _ : @ / + = -`
 *   (what proxies generate: UUIDs, hex, base64); anything else is replaced, never echoed, so a
 *   client cannot put text of its choosing into our logs or headers.
 * - Otherwise an id is generated: a random prefix per process (so nodes do not collide) and a
 *   counter. Cheap: no randomness per request.
 * - A socket gets one from its handshake (the same rule); each of its events is
 *   `<socket's id>.<n>`, n counting that socket's events.
 * - The pino child logger that carries the id is made only when something is logged.
 */
import type { IncomingMessage } from "node:http";
import { randomBase64url } from "../crypto/random";
import type { Logger } from "../logger";
import { isFromTrustedProxy, type ProxyTrust } from "./client-ip";

export const REQUEST_ID_HEADER = "X-Request-Id";
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** A request id generator: `<random prefix>-<counter in base 36>`. */
export function createRequestIdGenerator(): () => string {
  const prefix = randomBase64url(6);
  let counter = 0;
  return () => `${prefix}-${(++counter).toString(36)}`;
}

/** Whether an incoming X-Request-Id may be kept (charset and length). */
export function isValidRequestId(value: string): boolean {
  return REQUEST_ID_PATTERN.test(value);
}

/** The id for a request (or a socket's handshake): the trusted proxy's, or a new one. */
export function chooseRequestId(req: IncomingMessage, trust: ProxyTrust, generate: () => string): string {
  const given = req.headers["x-request-id"];
  if (typeof given === "string" && isValidRequestId(given) && isFromTrustedProxy(req.socket.remoteAddress, trust)) {
    return given;
  }
  return generate();
}

interface RequestState {
  requestId: string;
  log?: Logger;
}

/** Request -> its id and (once made) its logger; entries go with their requests. */
export interface RequestIds {
  /** Gives the request its id (once; later calls return the same) and sets X-Request-Id on `res`. */
  assign(req: IncomingMessage, res: { setHeader(name: string, value: string): unknown }): string;
  /** The id given to this request (one is assigned if none was). */
  idOf(req: IncomingMessage): string;
  /** A child of the app's logger with `requestId` bound, made on first use. */
  logOf(req: IncomingMessage): Logger;
  /** A new id (socket handshakes use chooseRequestId with it). */
  generate(): string;
}

export function createRequestIds(log: Logger, trust: ProxyTrust): RequestIds {
  const generate = createRequestIdGenerator();
  const states = new WeakMap<IncomingMessage, RequestState>();
  const stateOf = (req: IncomingMessage): RequestState => {
    let state = states.get(req);
    if (!state) {
      state = { requestId: chooseRequestId(req, trust, generate) };
      states.set(req, state);
    }
    return state;
  };
  return {
    assign(req, res) {
      const { requestId } = stateOf(req);
      res.setHeader(REQUEST_ID_HEADER, requestId);
      return requestId;
    },
    idOf: (req) => stateOf(req).requestId,
    logOf(req) {
      const state = stateOf(req);
      state.log ??= log.child({ requestId: state.requestId });
      return state.log;
    },
    generate,
  };
}

/** In a Hono route: the request's logger, or `fallback` where there is no Node request (router tests). */
export function logOfBindings(
  ids: RequestIds,
  fallback: Logger,
  env: { incoming?: IncomingMessage } | undefined,
): Logger {
  return env?.incoming ? ids.logOf(env.incoming) : fallback;
}
