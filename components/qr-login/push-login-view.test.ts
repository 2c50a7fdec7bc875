import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { liveRegion, storeIn, textOf } from "../../test/support/login-view-html";
import { PushLoginView } from "./push-login-view";
import type { PushLoginViewProps } from "./push-login-view";
import { createPushLoginStore } from "./push-store";
import type { PushLoginState } from "./push-store";
import { QrLoginView } from "./qr-login-view";
import { createQrLoginStore } from "./store";

const T0 = Date.parse("2030-01-01T00:00:00Z");
const ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const PENDING: Partial<PushLoginState> = {
  status: "pending",
  address: ADDRESS,
  sessionId: "AAECAwQFBgcICQoLDA0ODw",
  matchCode: "42",
  expiresAt: T0 + 90_000,
  now: T0,
};
const noop = () => {};

function render(state: Partial<PushLoginState>, props: Partial<PushLoginViewProps> = {}): string {
  return renderToStaticMarkup(
    createElement(PushLoginView, {
      store: storeIn(createPushLoginStore, state, T0),
      size: 232,
      onUseQr: noop,
      ...props,
    }),
  );
}

function buttons(html: string): string[] {
  return [...html.matchAll(/<button\b[^>]*>([\s\S]*?)<\/button>/g)].map((m) => textOf(m[1] ?? ""));
}

describe("PushLoginView", () => {
  it("idle: the address form, labelled, with Send and the way back to the QR", () => {
    const html = render({ status: "idle" });
    expect(html).toContain('data-state="idle"');
    expect(html).toContain('data-mode="push"');
    expect(html).toMatch(/role="group" aria-label="Sign in with your wallet"/);
    expect(liveRegion(html)).toContain("Send to my phone");
    expect(html).toMatch(/<label class="qrl-field" for="([^"]+)">Wallet address<\/label><input id="\1"/);
    expect(buttons(html)).toEqual(["Send to my phone", "Use a QR code instead"]);
    expect(html).not.toContain("Continue as");
  });

  it("idle with a remembered address: Continue as 0x12…cdef first, and another address below", () => {
    const html = render({ status: "idle" }, { rememberedAddress: ADDRESS, onForget: noop });
    expect(buttons(html)).toEqual([
      "Continue as 0xf39F…2266",
      "Not you? Forget this address",
      "Send to my phone",
      "Use a QR code instead",
    ]);
    expect(textOf(html)).toContain("Or another wallet address");
  });

  it("idle after a refused address: the sentence, tied to the field", () => {
    const html = render({
      status: "idle",
      error: { code: "invalid_address", message: "Enter a wallet address: 0x and 40 hexadecimal digits." },
    });
    const id = /aria-describedby="([^"]+)"/.exec(html)?.[1];
    expect(html).toContain('aria-invalid="true"');
    expect(html).toContain(
      `<p id="${id}" class="qrl-problem">Enter a wallet address: 0x and 40 hexadecimal digits.</p>`,
    );
  });

  it("pending: the number to type, large, where it went, the countdown and Cancel", () => {
    const html = render(PENDING);
    expect(liveRegion(html)).toBe("Check your phone Type 42 on your phone Sent to 0xf39F…2266");
    expect(html).toContain('<strong class="qrl-match">42</strong>');
    expect(textOf(html)).toContain("Request expires in 01:30");
    expect(html).toContain('role="timer"');
    expect(buttons(html)).toEqual(["Cancel", "Use a QR code instead"]);
  });

  it("fetched: opened on the phone, the number still shown", () => {
    const html = render({ ...PENDING, status: "fetched" });
    expect(liveRegion(html)).toBe("Opened on your phone Type 42 on your phone Sent to 0xf39F…2266");
    expect(buttons(html)).toEqual(["Cancel", "Use a QR code instead"]);
  });

  it("offline: says the request is followed over HTTP", () => {
    const html = render({ ...PENDING, offline: true });
    expect(textOf(html)).toContain("Connection lost: following the request over HTTP until it is back.");
  });

  it.each([
    [
      "sending",
      { ...PENDING, status: "sending", matchCode: undefined },
      "Sending to 0xf39F…2266…",
      ["Cancel", "Use a QR code instead"],
    ],
    ["signing-in", { ...PENDING, status: "signing-in" }, "Signing in…", []],
    ["signed-in", { ...PENDING, status: "signed-in" }, "✓ Signed in", []],
    [
      "denied",
      { ...PENDING, status: "denied", error: { code: "not_me", message: "Your phone answered “This wasn't me”." } },
      "✕ Sign-in refused Your phone answered “This wasn't me”.",
      ["Send again", "Use another address", "Use a QR code instead"],
    ],
    [
      "cancelled",
      { ...PENDING, status: "cancelled" },
      "– Sign-in cancelled",
      ["Send again", "Use another address", "Use a QR code instead"],
    ],
    [
      "expired",
      { ...PENDING, status: "expired" },
      "⟳ The request expired Your phone did not answer in time.",
      ["Send again", "Use another address", "Use a QR code instead"],
    ],
    [
      "suspended",
      { ...PENDING, status: "suspended" },
      "⤳ Replaced by a newer request A newer sign-in request went to this address; this one no longer counts.",
      ["Send again", "Use another address", "Use a QR code instead"],
    ],
    [
      "error",
      { ...PENDING, status: "error", error: { code: "rate_limited", message: "Too many sign-in requests." } },
      "! Sign-in failed Too many sign-in requests.",
      ["Send again", "Use another address", "Use a QR code instead"],
    ],
  ] as const)("%s: its words in the live region and its buttons", (_, state, words, actions) => {
    const html = render(state as Partial<PushLoginState>);
    expect(html).toContain(`data-state="${state.status}"`);
    expect(liveRegion(html)).toBe(words);
    expect(buttons(html)).toEqual(actions);
    if (state.status !== "sending") expect(html).not.toContain('role="timer"');
  });

  it("no way back to the QR when the page gives none", () => {
    expect(buttons(render({ status: "idle" }, { onUseQr: undefined }))).toEqual(["Send to my phone"]);
  });

  it("its stylesheet is the widget's, plus push mode's own rules", () => {
    const html = render(PENDING);
    // React hoists both as one element on the server: one precedence, both names.
    expect(html).toMatch(/<style[^>]*data-href="qr-login-widget qr-login-push"/);
    expect(html).toContain(".qrl-input{");
  });
});

describe("QrLoginView with push offered", () => {
  it("shows Send to my phone beside the QR's own buttons, and not once signing in", () => {
    const render = (status: "waiting" | "expired" | "signing-in") => {
      const state = { status, qr: "http://localhost:3000/api/login/requests/x", matchCode: "42", now: T0 };
      const html = renderToStaticMarkup(
        createElement(QrLoginView, { store: storeIn(createQrLoginStore, state, T0), size: 232, onUsePush: noop }),
      );
      return buttons(html);
    };
    expect(render("waiting")).toEqual(["Copy link", "Cancel", "Send to my phone"]);
    expect(render("expired")).toEqual(["New code", "Send to my phone"]);
    expect(render("signing-in")).toEqual([]);
  });
});
