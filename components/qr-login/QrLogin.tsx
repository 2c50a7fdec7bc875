"use client";
import { Suspense, lazy, useState } from "react";
import type { QrLoginError, QrLoginResult } from "./client-slot";
import { WidgetFrame } from "./frame";
import { QrLoginView } from "./qr-login-view";
import { rememberAddress } from "./remembered-address";
import type { QrLoginTheme } from "./theme";
import { useQrLogin } from "./use-qr-login";
import type { UseQrLoginOptions } from "./use-qr-login";

// Push mode is its own chunk: a page that never opens it never downloads it.
const PushLogin = lazy(() => import("./push-login"));

export interface QrLoginProps {
  /** Called once, after the wallet approved and the one-time code was redeemed. */
  onLogin: (result: QrLoginResult) => void;
  /** Called when the login is denied (`code` is the reason) or fails. */
  onError?: (error: QrLoginError) => void;
  /** Origin of the auth server; the page's own origin when left out. */
  endpoint?: string;
  requiredClaims?: string[];
  /** Deep-link template for an "Open in wallet" link; `{qr}` becomes the URL-encoded QR text. */
  walletLink?: string;
  /** Largest side of the QR code in CSS pixels; it shrinks to fit narrower containers. */
  size?: number;
  className?: string;
  theme?: Partial<QrLoginTheme>;
  /**
   * Offer "Send to my phone": a push to the wallet paired with an address (docs/protocol.md
   * section 5). Its code is loaded only when the person (or `mode`) opens it.
   */
  push?: boolean;
  /** The mode shown first when `push` is on; default `"qr"`. */
  mode?: "qr" | "push";
  /** With `mode="push"`: send to this address at once instead of asking for one. */
  pushAddress?: string;
  /**
   * Remember the address of each sign-in in this browser's localStorage and offer it in push
   * mode as "Continue as 0x12…cdef"; default true (only with `push`).
   */
  rememberAddress?: boolean;
}

const DEFAULT_SIZE = 232;

/**
 * Sign in with a phone wallet: by scanning a QR code (docs/protocol.md section 1) or, with
 * `push`, by a request sent to the paired wallet of an address (section 5).
 */
export function QrLogin({
  size = DEFAULT_SIZE,
  walletLink,
  className,
  theme,
  push = false,
  mode: initialMode = "qr",
  pushAddress,
  rememberAddress: remember = true,
  onLogin,
  ...options
}: QrLoginProps) {
  const [mode, setMode] = useState(initialMode);
  const handleLogin = (result: QrLoginResult) => {
    if (push && remember) rememberAddress(result.user.address);
    onLogin(result);
  };
  const frame = { size, className, theme };

  if (push && mode === "push") {
    return (
      <Suspense
        fallback={
          <WidgetFrame status="connecting" mode="push" {...frame}>
            <p className="qrl-status">Loading…</p>
          </WidgetFrame>
        }
      >
        <PushLogin
          {...frame}
          onLogin={handleLogin}
          onError={options.onError}
          endpoint={options.endpoint}
          remember={remember}
          address={pushAddress}
          onUseQr={() => setMode("qr")}
        />
      </Suspense>
    );
  }
  return (
    <QrMode
      {...frame}
      {...options}
      onLogin={handleLogin}
      walletLink={walletLink}
      onUsePush={push ? () => setMode("push") : undefined}
    />
  );
}

interface QrModeProps extends UseQrLoginOptions {
  size: number;
  walletLink: string | undefined;
  className: string | undefined;
  theme: Partial<QrLoginTheme> | undefined;
  onUsePush: (() => void) | undefined;
}

/** The QR mode: its store and socket live as long as it is shown. */
function QrMode({ size, walletLink, className, theme, onUsePush, ...options }: QrModeProps) {
  const store = useQrLogin(options);
  return (
    <QrLoginView
      store={store}
      size={size}
      walletLink={walletLink}
      className={className}
      theme={theme}
      onUsePush={onUsePush}
    />
  );
}
