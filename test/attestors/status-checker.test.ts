/**
 * The verifier's status list checker against a real HTTP server on loopback: what it refuses
 * (`status_list_unavailable`) when the token is not the attestor's list, a redirect it does not
 * follow, an origin it does not fetch, and that a fetched list is reused within its ttl.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { StatusList, createHeaderAndPayload } from "@sd-jwt/jwt-status-list";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ES256K, base64urlEncode, generatePrivateJwk, privateKeyHexOf, signEs256k } from "../../lib/claims/es256k";
import type { TrustedAttestor } from "../../server/claims/attestor-directory";
import { publicPartOf } from "../../server/claims/attestors";
import { createStatusListChecker } from "../../server/claims/status-lists";
import { createManualClock } from "../support/manual-clock";

const attestorJwk = generatePrivateJwk();
const otherJwk = generatePrivateJwk();
const encode = (value: unknown) => base64urlEncode(new TextEncoder().encode(JSON.stringify(value)));
const routes = new Map<string, { status: number; body: string; headers?: Record<string, string> }>();
const hits = new Map<string, number>();
let server: Server;
let origin: string;
let attestor: TrustedAttestor;

function token(options: { sub: string; signer?: typeof attestorJwk; typ?: string; exp?: number; ttl?: number }) {
  const list = new StatusList(new Array<number>(64).fill(0), 2);
  list.setStatus(3, 1);
  list.setStatus(4, 2);
  const { header, payload } = createHeaderAndPayload(
    list,
    { iss: origin, sub: options.sub, iat: Math.floor(Date.now() / 1000), ttl: options.ttl ?? 60, exp: options.exp },
    { alg: ES256K, typ: "statuslist+jwt" },
  );
  if (options.typ) header.typ = options.typ as "statuslist+jwt";
  const input = `${encode(header)}.${encode(payload)}`;
  return `${input}.${signEs256k(privateKeyHexOf(options.signer ?? attestorJwk), input)}`;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    const route = routes.get(req.url!);
    res.writeHead(route?.status ?? 404, route?.headers ?? {}).end(route?.body ?? "");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  attestor = { iss: origin, keys: [{ jwk: publicPartOf(attestorJwk) }], statusOrigins: new Set([origin]) };
  const ok = (path: string, body: string) => routes.set(path, { status: 200, body });
  ok("/good", token({ sub: `${origin}/good` }));
  ok("/wrong-sub", token({ sub: `${origin}/elsewhere` }));
  ok("/wrong-signer", token({ sub: `${origin}/wrong-signer`, signer: otherJwk }));
  ok("/wrong-typ", token({ sub: `${origin}/wrong-typ`, typ: "JWT" }));
  ok("/expired", token({ sub: `${origin}/expired`, exp: Math.floor(Date.now() / 1000) - 10 }));
  ok("/garbage", "not a jwt");
  routes.set("/redirect", { status: 302, body: "", headers: { location: `${origin}/good` } });
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

describe("createStatusListChecker", () => {
  it("reads valid, revoked and suspended entries of the attestor's list, fetching it once within its ttl", async () => {
    const clock = createManualClock();
    const checker = createStatusListChecker({ now: clock.now });
    const uri = `${origin}/good`;
    expect(await checker.check({ attestor, uri, idx: 0 })).toEqual({ ok: true });
    expect(await checker.check({ attestor, uri, idx: 3 })).toMatchObject({ ok: false, reason: "credential_revoked" });
    expect(await checker.check({ attestor, uri, idx: 4 })).toMatchObject({ ok: false, reason: "credential_suspended" });
    expect(await checker.check({ attestor, uri, idx: 64 })).toMatchObject({ reason: "status_list_unavailable" });
    expect(checker.countFetches()).toBe(1);
    clock.advance(61_000);
    expect(await checker.check({ attestor, uri, idx: 0 })).toEqual({ ok: true });
    expect(checker.countFetches()).toBe(2);
  });

  it.each([
    ["a token whose sub is another list", "/wrong-sub", "sub"],
    ["a token signed by another key", "/wrong-signer", "not signed"],
    ["a token of another typ", "/wrong-typ", "typ"],
    ["an expired token", "/expired", "expired"],
    ["a body that is no JWT", "/garbage", "not a JWT"],
    ["a redirect (not followed)", "/redirect", "fetch failed"],
    ["a 404", "/missing", "404"],
  ])("refuses %s with status_list_unavailable", async (_name, path, detail) => {
    const checker = createStatusListChecker();
    const result = await checker.check({ attestor, uri: `${origin}${path}`, idx: 0 });
    expect(result).toMatchObject({
      ok: false,
      reason: "status_list_unavailable",
      detail: expect.stringContaining(detail),
    });
  });

  it("never fetches outside the attestor's origins, nor URIs with user info", async () => {
    const checker = createStatusListChecker();
    const before = hits.get("/good") ?? 0;
    for (const uri of [
      `http://localhost:${new URL(origin).port}/good`,
      `${origin.replace("http://", "http://user:pw@")}/good`,
      "file:///etc/passwd",
      "not a uri",
    ]) {
      expect(await checker.check({ attestor, uri, idx: 0 })).toMatchObject({ reason: "status_list_unavailable" });
    }
    expect(hits.get("/good") ?? 0).toBe(before);
    expect(checker.countFetches()).toBe(0);
  });
});
