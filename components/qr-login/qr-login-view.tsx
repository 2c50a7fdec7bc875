"use client";
import { useEffect, useMemo, useState } from "react";
import { useStore } from "zustand";
import { QrLoginStoreContext, useQrLoginStore } from "./context";
import { buildWalletLink, formatCountdown } from "./format";
import { isCancellableStatus, isOpenStatus, selectRemainingMs } from "./store";
import type { QrLoginStatus, QrLoginStore } from "./store";
import { WidgetFrame } from "./frame";
import { encodeQr, qrPath } from "./qr-code";
import type { QrLoginTheme } from "./theme";

const COPIED_FOR_MS = 2000;

export interface QrLoginViewProps {
  store: QrLoginStore;
  size: number;
  walletLink?: string | undefined;
  className?: string | undefined;
  theme?: Partial<QrLoginTheme> | undefined;
  /** Shows "Send to my phone", which calls this (the push mode, loaded when used). */
  onUsePush?: (() => void) | undefined;
}

/** The widget's markup for a given store; `QrLogin` supplies a live one, tests a driven one. */
export function QrLoginView({ store, size, walletLink, className, theme, onUsePush }: QrLoginViewProps) {
  const status = useStore(store, (state) => state.status);
  return (
    <QrLoginStoreContext value={store}>
      <WidgetFrame status={status} mode="qr" size={size} className={className} theme={theme}>
        <QrImage size={size} status={status} />
        <StatusMessage status={status} />
        <Countdown />
        <Actions status={status} walletLink={walletLink} onUsePush={onUsePush} />
      </WidgetFrame>
    </QrLoginStoreContext>
  );
}

function QrImage({ size, status }: { size: number; status: QrLoginStatus }) {
  const qr = useQrLoginStore((state) => state.qr);
  const isShown = qr !== undefined && isOpenStatus(status);
  return (
    <div className="qrl-code" data-qr={isShown ? qr : undefined}>
      {isShown ? (
        <QrSvg value={qr} size={size} />
      ) : (
        <div className="qrl-ph" aria-hidden="true">
          {STATUS_VIEWS[status].glyph}
        </div>
      )}
    </div>
  );
}

/** Quiet zone around the code, in modules; the tile's padding adds the rest. */
const QR_MARGIN = 2;

function QrSvg({ value, size }: { value: string; size: number }) {
  const modules = useMemo(() => encodeQr(value), [value]);
  const cells = modules.length + QR_MARGIN * 2;
  return (
    <svg
      width={size}
      height={size}
      viewBox={`0 0 ${cells} ${cells}`}
      role="img"
      aria-label="QR code to sign in"
      shapeRendering="crispEdges"
    >
      <path fill="currentColor" d={qrPath(modules, QR_MARGIN)} />
    </svg>
  );
}

interface StatusView {
  title: string;
  detail?: string;
  /** Drawn where the QR code was. */
  glyph?: string;
  /** Label of the button that starts a new login. */
  restart?: string;
}

// `denied` and `error` take their detail from the error; `scanned` is drawn apart.
const STATUS_VIEWS: Record<QrLoginStatus, StatusView> = {
  connecting: { title: "Connecting…" },
  waiting: { title: "Scan with your wallet", detail: "Point your phone's wallet app at the code." },
  scanned: { title: "" },
  "signing-in": { title: "Signing in…" },
  "signed-in": { title: "Signed in", glyph: "✓" },
  denied: { title: "Sign-in refused", glyph: "✕", restart: "Try again" },
  expired: { title: "This code has expired", glyph: "⟳", restart: "New code" },
  cancelled: { title: "Sign-in cancelled", glyph: "–", restart: "Start again" },
  offline: { title: "Offline — reconnecting…" },
  error: { title: "Sign-in failed", glyph: "!", restart: "Try again" },
};

function StatusMessage({ status }: { status: QrLoginStatus }) {
  const matchCode = useQrLoginStore((state) => state.matchCode);
  const error = useQrLoginStore((state) => state.error);
  const isReplacement = useQrLoginStore((state) => state.attempts > 1);
  const { title: text, detail } = STATUS_VIEWS[status];
  const problem = status === "denied" || status === "error" ? error?.message : undefined;
  const title = status === "connecting" && isReplacement ? "Getting a new code…" : text;

  return (
    <div className="qrl-status" aria-live="polite" aria-atomic="true">
      {status === "scanned" ? (
        <p>
          Choose <strong className="qrl-match">{matchCode}</strong> on your phone
        </p>
      ) : (
        <>
          <p className="qrl-title">{title}</p>
          {detail !== undefined ? <p>{detail}</p> : null}
          {problem !== undefined ? <p className="qrl-problem">{problem}</p> : null}
        </>
      )}
    </div>
  );
}

function Countdown() {
  const remaining = useQrLoginStore((state) =>
    isOpenStatus(state.status) ? formatCountdown(selectRemainingMs(state) ?? 0) : undefined,
  );
  if (remaining === undefined) return null;
  // Not a live region: a reader announcing every second would drown out the status.
  return (
    <p className="qrl-countdown" role="timer">
      Code expires in <time>{remaining}</time>
    </p>
  );
}

function Actions({
  status,
  walletLink,
  onUsePush,
}: {
  status: QrLoginStatus;
  walletLink: string | undefined;
  onUsePush: (() => void) | undefined;
}) {
  const qr = useQrLoginStore((state) => state.qr);
  const cancel = useQrLoginStore((state) => state.cancel);
  const restart = useQrLoginStore((state) => state.restart);
  const restartLabel = STATUS_VIEWS[status].restart;
  const hasLink = qr !== undefined && status === "waiting";

  const canPush = onUsePush !== undefined && status !== "signing-in" && status !== "signed-in";

  if (!isCancellableStatus(status) && restartLabel === undefined && !canPush) return null;
  return (
    <div className="qrl-actions">
      {hasLink && walletLink !== undefined ? (
        <a className="qrl-button qrl-primary qrl-open" href={buildWalletLink(walletLink, qr)}>
          Open in wallet
        </a>
      ) : null}
      {hasLink ? <CopyLinkButton text={qr} /> : null}
      {isCancellableStatus(status) ? (
        <button type="button" className="qrl-button" onClick={cancel}>
          Cancel
        </button>
      ) : null}
      {restartLabel !== undefined ? (
        <button type="button" className="qrl-button qrl-primary" onClick={restart}>
          {restartLabel}
        </button>
      ) : null}
      {canPush ? (
        <button type="button" className="qrl-button" onClick={onUsePush}>
          Send to my phone
        </button>
      ) : null}
    </div>
  );
}

function CopyLinkButton({ text }: { text: string }) {
  const [result, setResult] = useState<"idle" | "copied" | "failed">("idle");

  useEffect(() => {
    if (result === "idle") return;
    const timer = setTimeout(() => setResult("idle"), COPIED_FOR_MS);
    return () => clearTimeout(timer);
  }, [result]);

  async function copy() {
    try {
      // navigator.clipboard is undefined outside secure contexts (plain http other than localhost).
      await navigator.clipboard.writeText(text);
      setResult("copied");
    } catch {
      setResult("failed");
    }
  }

  const label = result === "copied" ? "Copied" : result === "failed" ? "Copy failed" : "Copy link";
  return (
    <>
      <button type="button" className="qrl-button" onClick={copy}>
        {label}
      </button>
      {/* A button's changed label is not announced by every screen reader. */}
      <span className="qrl-sr" aria-live="polite">
        {result === "idle" ? "" : label}
      </span>
    </>
  );
}
