"use client";
/**
 * Push mode, "Send to my phone" (docs/protocol.md section 5.3): what `QrLogin` loads, with a
 * dynamic import, only when a page shows it, so the QR mode's bundle does not carry it. It owns
 * its store and socket exactly as long as it is mounted (./use-qr-login.ts says why that matters).
 */
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { useStore } from "zustand";
import { createLoginClient } from "../../lib/client/login-client";
import type { QrLoginError, QrLoginResult } from "./client-slot";
import { PushLoginView } from "./push-login-view";
import { createPushLoginStore, isOpenPushStatus } from "./push-store";
import type { PushLoginStore } from "./push-store";
import { forgetAddress, readRememberedAddress } from "./remembered-address";
import type { QrLoginTheme } from "./theme";

export interface PushLoginProps {
  onLogin: (result: QrLoginResult) => void;
  onError?: ((error: QrLoginError) => void) | undefined;
  endpoint?: string | undefined;
  size: number;
  /** Offer the address of this browser's last sign-in ("Continue as …"). */
  remember: boolean;
  /** Sent to at once when the push mode opens (a page that knows who signs in). */
  address?: string | undefined;
  onUseQr?: (() => void) | undefined;
  className?: string | undefined;
  theme?: Partial<QrLoginTheme> | undefined;
}

// Often enough that the seconds turn over on time; selectors re-render only when they do.
const TICK_MS = 250;

export function usePushLogin(options: Pick<PushLoginProps, "onLogin" | "onError" | "endpoint">): PushLoginStore {
  const latest = useRef(options);
  useLayoutEffect(() => {
    latest.current = options;
  });
  const [store] = useState(() =>
    createPushLoginStore({
      createClient: () => {
        const { endpoint } = latest.current;
        return createLoginClient(endpoint ? { endpoint } : {});
      },
      onLogin: (result) => latest.current.onLogin(result),
      onError: (error) => latest.current.onError?.(error),
    }),
  );

  // A new endpoint needs a new socket; unmounting cancels an open push (the phone is told).
  const { endpoint } = options;
  useEffect(() => () => void store.getState().dispose(), [store, endpoint]);

  const isTicking = useStore(store, (state) => isOpenPushStatus(state.status));
  useEffect(() => {
    if (!isTicking) return;
    const tick = () => store.getState().tick(Date.now());
    tick();
    const timer = setInterval(tick, TICK_MS);
    return () => clearInterval(timer);
  }, [store, isTicking]);

  return store;
}

export default function PushLogin({ remember, address, onUseQr, size, className, theme, ...options }: PushLoginProps) {
  const store = usePushLogin(options);
  const [remembered, setRemembered] = useState<string | undefined>(undefined);

  // Storage is read after mounting, so the server's render and the first client render agree.
  useEffect(() => {
    if (remember) setRemembered(readRememberedAddress());
  }, [remember]);

  // Deferred by a task, as the QR mode's start: StrictMode's first mount sends nothing.
  useEffect(() => {
    if (address === undefined) return;
    const timer = setTimeout(() => store.getState().send(address), 0);
    return () => clearTimeout(timer);
  }, [store, address]);

  return (
    <PushLoginView
      store={store}
      size={size}
      rememberedAddress={remembered}
      onForget={() => {
        forgetAddress();
        setRemembered(undefined);
      }}
      onUseQr={onUseQr}
      className={className}
      theme={theme}
    />
  );
}
