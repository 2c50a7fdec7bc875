/**
 * Security headers on every answer: pages (through Next), the API router, the data handler and
 * the refusals the server writes itself.
 *
 * Rules:
 * - Nothing of ours may be framed: `frame-ancestors 'none'` and `X-Frame-Options: DENY` (a
 *   framed /wallet or /partners would let another site borrow the user's clicks). No page of
 *   this app is meant to be framed; the widget is embedded as a component, not a frame.
 * - Pages get a Content-Security-Policy with a fresh nonce per request: `script-src 'self'
 *   'nonce-…' 'strict-dynamic'`. Next reads the nonce from the request's own
 *   Content-Security-Policy header (as it does when proxy.ts sets it) and puts it on its inline
 *   bootstrap scripts, so pages render dynamically (app/layout.tsx). Styles allow inline
 *   (React `style` attributes); development adds 'unsafe-eval' for React's dev tooling.
 * - API answers are data, never documents: `default-src 'none'`.
 * - `Strict-Transport-Security` only when PUBLIC_URL is https (the browser ignores it on http,
 *   and setting it for localhost would pin a developer's machine).
 * - `Referrer-Policy: no-referrer`: login request URLs carry session ids.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomBase64url } from "../crypto/random";

export interface SecurityHeaderOptions {
  isDev: boolean;
  publicUrl: string;
}

const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The headers every answer carries, whatever its kind. */
export function createBaseHeaders(options: SecurityHeaderOptions): ReadonlyArray<readonly [string, string]> {
  const headers: Array<readonly [string, string]> = [
    ["X-Frame-Options", "DENY"],
    ["X-Content-Type-Options", "nosniff"],
    ["Referrer-Policy", "no-referrer"],
  ];
  if (options.publicUrl.startsWith("https:")) {
    headers.push(["Strict-Transport-Security", "max-age=31536000; includeSubDomains"]);
  }
  return headers;
}

/** The policy of a page answered with this nonce. */
export function buildPageCsp(nonce: string, isDev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${isDev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Where headers are set: an answer, or a list of them for a raw refusal (./request-target.ts). */
export interface HeaderSink {
  setHeader(name: string, value: string): unknown;
}

export interface SecurityHeaders {
  /** API answers and the server's own refusals. */
  applyToApi(res: HeaderSink): void;
  /** Pages: a fresh nonce, on the answer and on the request where Next reads it. */
  applyToPage(req: IncomingMessage, res: ServerResponse): string;
}

export function createSecurityHeaders(options: SecurityHeaderOptions): SecurityHeaders {
  const base = createBaseHeaders(options);
  return {
    applyToApi(res) {
      for (const [name, value] of base) res.setHeader(name, value);
      res.setHeader("Content-Security-Policy", API_CSP);
    },
    applyToPage(req, res) {
      const nonce = randomBase64url(16);
      const csp = buildPageCsp(nonce, options.isDev);
      for (const [name, value] of base) res.setHeader(name, value);
      res.setHeader("Content-Security-Policy", csp);
      // What a client sent under this name is replaced: only our nonce may reach Next.
      req.headers["content-security-policy"] = csp;
      delete req.headers["content-security-policy-report-only"];
      return nonce;
    },
  };
}
