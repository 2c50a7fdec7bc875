"use client";
import { QrLoginView } from "./qr-login-view";
import type { QrLoginError, QrLoginResult } from "./store";
import type { QrLoginTheme } from "./theme";
import { useQrLogin } from "./use-qr-login";
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
}

const DEFAULT_SIZE = 232;

/** Sign in by scanning a QR code with a phone wallet (docs/protocol.md section 1). */
export function QrLogin({ size = DEFAULT_SIZE, walletLink, className, theme, ...options }: QrLoginProps) {
  const store = useQrLogin(options);
  return <QrLoginView store={store} size={size} walletLink={walletLink} className={className} theme={theme} />;
}
