"use client";
import { useId, useState } from "react";
import { useStore } from "zustand";
import { formatCountdown } from "./format";
import { WidgetFrame } from "./frame";
import { isCancellablePushStatus, isEndedPushStatus, isOpenPushStatus, shortAddress } from "./push-store";
import type { PushLoginStatus, PushLoginStore } from "./push-store";
import type { QrLoginTheme } from "./theme";

/** Push mode's own rules on top of the widget's stylesheet (./styles.ts). */
const PUSH_CSS = `.qrl-form{display:flex;flex-direction:column;align-items:stretch;gap:8px;width:100%}
.qrl-field{display:flex;flex-direction:column;gap:4px;font-size:14px;text-align:left}
.qrl-input{min-height:44px;padding:0 12px;font:14px ui-monospace,monospace;color:inherit;background:none;border:1px solid var(--_mu);border-radius:calc(var(--_r)*.66)}
.qrl-input:focus-visible{outline:3px solid var(--_ac);outline-offset:2px}
.qrl-form .qrl-button{justify-content:center}
.qrl-glyph{font-size:40px;line-height:1.2}
.qrl[data-state=signed-in] .qrl-glyph{color:var(--_ok)}
.qrl-note{font-size:13px;color:var(--_mu)}`;

export interface PushLoginViewProps {
  store: PushLoginStore;
  size: number;
  /** The address this browser remembers from its last sign-in, offered as "Continue as …". */
  rememberedAddress?: string | undefined;
  /** Forgets the remembered address ("Not you?"). */
  onForget?: (() => void) | undefined;
  /** Shows "Use a QR code instead", which calls this. */
  onUseQr?: (() => void) | undefined;
  className?: string | undefined;
  theme?: Partial<QrLoginTheme> | undefined;
}

interface EndView {
  title: string;
  detail?: string;
  glyph: string;
}

const END_VIEWS: Partial<Record<PushLoginStatus, EndView>> = {
  denied: { title: "Sign-in refused", glyph: "✕" },
  cancelled: { title: "Sign-in cancelled", glyph: "–" },
  expired: { title: "The request expired", detail: "Your phone did not answer in time.", glyph: "⟳" },
  suspended: {
    title: "Replaced by a newer request",
    detail: "A newer sign-in request went to this address; this one no longer counts.",
    glyph: "⤳",
  },
  error: { title: "Sign-in failed", glyph: "!" },
};

/** Push mode's markup for a given store; `QrLogin` supplies a live one, tests a driven one. */
export function PushLoginView({
  store,
  size,
  rememberedAddress,
  onForget,
  onUseQr,
  className,
  theme,
}: PushLoginViewProps) {
  const status = useStore(store, (state) => state.status);
  return (
    <WidgetFrame status={status} mode="push" size={size} className={className} theme={theme}>
      <style href="qr-login-push" precedence="default">
        {PUSH_CSS}
      </style>
      {status === "idle" ? (
        <AddressForm store={store} rememberedAddress={rememberedAddress} onForget={onForget} />
      ) : (
        <PushStatus store={store} status={status} />
      )}
      <div className="qrl-actions">
        {isCancellablePushStatus(status) ? (
          <button type="button" className="qrl-button" onClick={store.getState().cancel}>
            Cancel
          </button>
        ) : null}
        {isEndedPushStatus(status) ? <EndActions store={store} /> : null}
        {onUseQr !== undefined && status !== "signing-in" && status !== "signed-in" ? (
          <button type="button" className="qrl-button" onClick={onUseQr}>
            Use a QR code instead
          </button>
        ) : null}
      </div>
    </WidgetFrame>
  );
}

function AddressForm({
  store,
  rememberedAddress,
  onForget,
}: {
  store: PushLoginStore;
  rememberedAddress: string | undefined;
  onForget: (() => void) | undefined;
}) {
  const error = useStore(store, (state) => state.error);
  const [address, setAddress] = useState(() => store.getState().address ?? "");
  const inputId = useId();
  const errorId = useId();
  const send = store.getState().send;
  return (
    <>
      <div className="qrl-status" aria-live="polite" aria-atomic="true">
        <p className="qrl-title">Send to my phone</p>
        <p>Your paired wallet gets the request; type the number shown here to approve it.</p>
      </div>
      {rememberedAddress !== undefined ? (
        <div className="qrl-form">
          <button type="button" className="qrl-button qrl-primary" onClick={() => send(rememberedAddress)}>
            Continue as {shortAddress(rememberedAddress)}
          </button>
          {onForget !== undefined ? (
            <button type="button" className="qrl-button" onClick={onForget}>
              Not you? Forget this address
            </button>
          ) : null}
        </div>
      ) : null}
      <form
        className="qrl-form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          send(address);
        }}
      >
        <label className="qrl-field" htmlFor={inputId}>
          {rememberedAddress !== undefined ? "Or another wallet address" : "Wallet address"}
        </label>
        <input
          id={inputId}
          className="qrl-input"
          name="address"
          value={address}
          onChange={(event) => setAddress(event.target.value)}
          placeholder="0x…"
          autoComplete="off"
          autoCapitalize="off"
          spellCheck={false}
          aria-invalid={error !== undefined}
          aria-describedby={error !== undefined ? errorId : undefined}
        />
        {error !== undefined ? (
          <p id={errorId} className="qrl-problem">
            {error.message}
          </p>
        ) : null}
        <button type="submit" className={rememberedAddress !== undefined ? "qrl-button" : "qrl-button qrl-primary"}>
          Send to my phone
        </button>
      </form>
    </>
  );
}

function PushStatus({ store, status }: { store: PushLoginStore; status: PushLoginStatus }) {
  const address = useStore(store, (state) => state.address);
  const matchCode = useStore(store, (state) => state.matchCode);
  const error = useStore(store, (state) => state.error);
  const offline = useStore(store, (state) => state.offline);
  const end = END_VIEWS[status];
  const to = address !== undefined ? shortAddress(address) : "";

  let body;
  if (isOpenPushStatus(status)) {
    body = (
      <>
        <p className="qrl-title">{status === "fetched" ? "Opened on your phone" : "Check your phone"}</p>
        <p>
          Type <strong className="qrl-match">{matchCode}</strong> on your phone
        </p>
        <p className="qrl-note">Sent to {to}</p>
      </>
    );
  } else if (end !== undefined) {
    body = (
      <>
        <p className="qrl-glyph" aria-hidden="true">
          {end.glyph}
        </p>
        <p className="qrl-title">{end.title}</p>
        {end.detail !== undefined ? <p>{end.detail}</p> : null}
        {error !== undefined ? <p className="qrl-problem">{error.message}</p> : null}
      </>
    );
  } else if (status === "signed-in") {
    body = (
      <>
        <p className="qrl-glyph" aria-hidden="true">
          ✓
        </p>
        <p className="qrl-title">Signed in</p>
      </>
    );
  } else {
    body = <p className="qrl-title">{status === "sending" ? `Sending to ${to}…` : "Signing in…"}</p>;
  }

  return (
    <>
      <div className="qrl-status" aria-live="polite" aria-atomic="true">
        {body}
      </div>
      {offline ? <p className="qrl-note">Connection lost: following the request over HTTP until it is back.</p> : null}
      {isOpenPushStatus(status) ? <PushCountdown store={store} /> : null}
    </>
  );
}

function PushCountdown({ store }: { store: PushLoginStore }) {
  const remaining = useStore(store, (state) => formatCountdown(Math.max(0, (state.expiresAt ?? 0) - state.now)));
  // Not a live region: a reader announcing every second would drown out the status.
  return (
    <p className="qrl-countdown" role="timer">
      Request expires in <time>{remaining}</time>
    </p>
  );
}

function EndActions({ store }: { store: PushLoginStore }) {
  const address = useStore(store, (state) => state.address);
  const { send, reset } = store.getState();
  return (
    <>
      {address !== undefined ? (
        <button type="button" className="qrl-button qrl-primary" onClick={() => send(address)}>
          Send again
        </button>
      ) : null}
      <button type="button" className="qrl-button" onClick={reset}>
        Use another address
      </button>
    </>
  );
}
