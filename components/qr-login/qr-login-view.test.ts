import jsQR from "jsqr";
import { createElement, Fragment } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { liveRegion, storeIn, textOf } from "../../test/support/login-view-html";
import { QrLoginView } from "./qr-login-view";
import { createQrLoginStore } from "./store";
import type { QrLoginState } from "./store";

const T0 = Date.parse("2030-01-01T00:00:00Z");
const QR = "http://localhost:3000/api/login/requests/AAECAwQFBgcICQoLDA0ODw";
const WAITING: Partial<QrLoginState> = {
  status: "waiting",
  sessionId: "AAECAwQFBgcICQoLDA0ODw",
  qr: QR,
  matchCode: "42",
  expiresAt: T0 + 90_000,
  now: T0,
  attempts: 1,
};

function render(state: Partial<QrLoginState>, props: { walletLink?: string; theme?: object } = {}): string {
  return renderToStaticMarkup(
    createElement(QrLoginView, { store: storeIn(createQrLoginStore, state, T0), size: 232, ...props }),
  );
}

function buttons(html: string): string[] {
  return [...html.matchAll(/<(?:button|a)\b[^>]*>([^<]*)<\/(?:button|a)>/g)].map((m) => m[1] ?? "");
}

/** Rasterises the QR SVG path (one `M x y h w v1` run per dark stretch) and decodes it. */
function decodeQr(html: string): string | undefined {
  const svg = /<svg[^>]*viewBox="0 0 (\d+) \1"[\s\S]*?<\/svg>/.exec(html);
  if (!svg?.[1]) return undefined;
  const cells = Number(svg[1]);
  const paths = [...svg[0].matchAll(/<path[^>]*d="([^"]*)"/g)].map((m) => m[1] ?? "");
  const dark = paths.at(-1) ?? "";
  const scale = 4;
  const quiet = 4;
  const side = (cells + 2 * quiet) * scale;
  const pixels = new Uint8ClampedArray(side * side * 4).fill(255);
  for (const run of dark.matchAll(/M(\d+)[ ,](\d+) ?h(\d+)v1/g)) {
    const [x, y, width] = [Number(run[1]), Number(run[2]), Number(run[3])];
    for (let dy = 0; dy < scale; dy++) {
      for (let dx = 0; dx < width * scale; dx++) {
        const px = (x + quiet) * scale + dx;
        const py = (y + quiet) * scale + dy;
        pixels.fill(0, (py * side + px) * 4, (py * side + px) * 4 + 3);
      }
    }
  }
  return jsQR(pixels, side, side)?.data;
}

describe("QrLoginView", () => {
  it("waiting: a QR encoding exactly the session's qr text, with an accessible name", () => {
    const html = render(WAITING);
    expect(decodeQr(html)).toBe(QR);
    expect(html).toMatch(/<svg[^>]*role="img"[^>]*aria-label="QR code to sign in"/);
    expect(html).toContain(`data-qr="${QR}"`);
    expect(html).toContain('data-state="waiting"');
    expect(liveRegion(html)).toContain("Scan with your wallet");
    expect(textOf(html)).toContain("Code expires in 01:30");
    expect(buttons(html)).toEqual(["Copy link", "Cancel"]);
  });

  it("renders its stylesheet once per document, as a hoistable style, with light and dark defaults", () => {
    const twice = renderToStaticMarkup(
      createElement(
        Fragment,
        null,
        createElement(QrLoginView, { store: storeIn(createQrLoginStore, WAITING, T0), size: 232 }),
        createElement(QrLoginView, { store: storeIn(createQrLoginStore, WAITING, T0), size: 232 }),
      ),
    );
    expect(twice.match(/<style/g)).toHaveLength(1);
    const tag = /<style[^>]*>/.exec(twice)?.[0];
    expect(tag).toContain('data-href="qr-login-widget"');
    expect(tag).toContain("data-precedence=");
    expect(twice).toContain("prefers-color-scheme:dark");
  });

  it("walletLink adds an Open in wallet link with the URL-encoded qr text", () => {
    const html = render(WAITING, { walletLink: "examplewallet://login?request={qr}" });
    expect(html).toContain(`href="examplewallet://login?request=${encodeURIComponent(QR)}"`);
    expect(buttons(html)).toEqual(["Open in wallet", "Copy link", "Cancel"]);
  });

  it("theme props become --qrl-* custom properties on the root, with the size", () => {
    const html = render(WAITING, { theme: { accent: "#ff0066", onAccent: "#000", radius: "4px", font: "" } });
    expect(html).toContain(
      'class="qrl" data-state="waiting" style="--qrl-accent:#ff0066;--qrl-on-accent:#000;--qrl-radius:4px;--qrl-size:232px"',
    );
  });

  it("scanned: the match code, large, and Cancel", () => {
    const html = render({ ...WAITING, status: "scanned" });
    expect(liveRegion(html)).toBe("Choose 42 on your phone");
    expect(html).toContain('<strong class="qrl-match">42</strong>');
    expect(buttons(html)).toEqual(["Cancel"]);
  });

  it.each([
    ["connecting", { status: "connecting", attempts: 0 }, "Connecting…", ["Cancel"]],
    ["connecting to a new code", { status: "connecting", attempts: 2 }, "Getting a new code…", ["Cancel"]],
    ["signing-in", { ...WAITING, status: "signing-in" }, "Signing in…", []],
    ["signed-in", { ...WAITING, status: "signed-in" }, "Signed in", []],
    [
      "denied",
      {
        ...WAITING,
        status: "denied",
        error: { code: "wrong_match_code", message: "The wrong number was chosen on the phone." },
      },
      "Sign-in refused The wrong number was chosen on the phone.",
      ["Try again"],
    ],
    ["expired", { ...WAITING, status: "expired" }, "This code has expired", ["New code"]],
    ["cancelled", { ...WAITING, status: "cancelled" }, "Sign-in cancelled", ["Start again"]],
    ["offline", { ...WAITING, status: "offline" }, "Offline — reconnecting…", ["Cancel"]],
    [
      "error",
      { status: "error", error: { code: "rate_limited", message: "Too many sign-in attempts." } },
      "Sign-in failed Too many sign-in attempts.",
      ["Try again"],
    ],
  ] as const)("%s: its words in the live region and its buttons", (_, state, words, actions) => {
    const html = render(state as Partial<QrLoginState>);
    expect(html).toContain(`data-state="${state.status}"`);
    expect(liveRegion(html)).toBe(words);
    expect(buttons(html)).toEqual(actions);
  });

  it("shows the QR only while a code is open, and the countdown with it", () => {
    expect(decodeQr(render({ ...WAITING, status: "offline" }))).toBe(QR);
    for (const status of ["signing-in", "signed-in", "denied", "expired", "cancelled", "error"] as const) {
      const html = render({ ...WAITING, status });
      expect(html).not.toContain("<svg");
      expect(html).not.toContain('<div class="qrl-code" data-qr=');
      expect(html).not.toContain('role="timer"');
    }
  });
});
