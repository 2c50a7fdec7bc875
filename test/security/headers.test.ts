/**
 * Security headers on API answers (issue 11 item 4): the Hono router, the plain data handler
 * and errors all carry frame-ancestors 'none', X-Frame-Options, nosniff and Referrer-Policy;
 * Strict-Transport-Security only when PUBLIC_URL is https. Pages are checked on a production
 * build in e2e/security-headers.spec.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/start-test-app";

let plain: TestApp;
let tls: TestApp;
beforeAll(async () => {
  plain = await startTestApp();
  tls = await startTestApp({ PUBLIC_URL: "https://login.example" });
});
afterAll(async () => {
  await plain?.stop();
  await tls?.stop();
});

function expectSecurityHeaders(headers: Headers) {
  expect(headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
  expect(headers.get("content-security-policy")).toMatch(/default-src 'none'/);
  expect(headers.get("x-frame-options")).toBe("DENY");
  expect(headers.get("x-content-type-options")).toBe("nosniff");
  expect(headers.get("referrer-policy")).toBe("no-referrer");
}

describe("API answers", () => {
  it.each([
    ["GET", "/api/health", undefined, 200],
    ["GET", "/.well-known/jwks.json", undefined, 200],
    ["GET", "/api/me", undefined, 401],
    ["GET", "/api/nothing-here", undefined, 404],
    ["POST", "/api/auth", "{", 400],
    ["POST", "/api/data/users", "{}", 400],
    ["GET", "/apps/1/channels", undefined, 404],
    // Socket.IO's own answers (engine.io refuses the polling transport).
    ["GET", "/socket.io/?EIO=4&transport=polling", undefined, 400],
  ])("%s %s carries the security headers and a request id", async (method, path, body, status) => {
    const response = await fetch(`${plain.baseUrl}${path}`, {
      method,
      body,
      headers: body ? { "content-type": "application/json" } : {},
    });
    await response.arrayBuffer();
    expect(response.status).toBe(status);
    expectSecurityHeaders(response.headers);
    expect(response.headers.get("x-request-id")).toMatch(/^[A-Za-z0-9._:@/+=-]{1,128}$/);
    expect(response.headers.get("strict-transport-security")).toBeNull();
  });

  it("GET /api/health tells nothing but that the server answers", async () => {
    const response = await fetch(`${plain.baseUrl}/api/health`);
    expect(await response.json()).toEqual({ ok: true });
  });

  it("adds Strict-Transport-Security when PUBLIC_URL is https", async () => {
    for (const path of ["/api/health", "/api/data/users"]) {
      const response = await fetch(`${tls.baseUrl}${path}`, { method: path.includes("data") ? "POST" : "GET" });
      await response.arrayBuffer();
      expectSecurityHeaders(response.headers);
      expect(response.headers.get("strict-transport-security")).toMatch(/^max-age=\d{7,}/);
    }
  });
});
