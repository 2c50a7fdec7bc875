"use client";
/**
 * The one owner of the widget's socket: the store and its login client live exactly as
 * long as the component is mounted. React StrictMode mounts, unmounts and mounts again
 * in development; the start is deferred by a task so that first mount opens no socket,
 * and every cleanup disposes the store, which cancels an open session and closes the socket.
 */
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { useStore } from "zustand";
import { createLoginClient } from "../../lib/client/login-client";
import { createQrLoginStore, isOpenStatus } from "./store";
import type { QrLoginError, QrLoginResult, QrLoginStore } from "./store";

export interface UseQrLoginOptions {
  onLogin: (result: QrLoginResult) => void;
  onError?: (error: QrLoginError) => void;
  endpoint?: string;
  requiredClaims?: readonly string[];
}

// Often enough that the seconds turn over on time; selectors re-render only when they do.
const TICK_MS = 250;

export function useQrLogin(options: UseQrLoginOptions): QrLoginStore {
  // The store outlives renders, so it reads callbacks and claims through this ref rather
  // than keeping the first render's ones.
  const latest = useRef(options);
  useLayoutEffect(() => {
    latest.current = options;
  });

  const [store] = useState(() =>
    createQrLoginStore({
      createClient: () => {
        const { endpoint } = latest.current;
        return createLoginClient(endpoint ? { endpoint } : {});
      },
      getRequiredClaims: () => latest.current.requiredClaims,
      onLogin: (result) => latest.current.onLogin(result),
      onError: (error) => latest.current.onError?.(error),
    }),
  );

  // A new endpoint or new claims need a new socket or a new login request.
  const { endpoint } = options;
  const claimsKey = options.requiredClaims?.join("\n") ?? "";
  useEffect(() => {
    const timer = setTimeout(() => store.getState().start(), 0);
    return () => {
      clearTimeout(timer);
      void store.getState().dispose();
    };
  }, [store, endpoint, claimsKey]);

  const isTicking = useStore(store, (state) => isOpenStatus(state.status));
  useEffect(() => {
    if (!isTicking) return;
    const tick = () => store.getState().tick(Date.now());
    tick();
    const timer = setInterval(tick, TICK_MS);
    return () => clearInterval(timer);
  }, [store, isTicking]);

  return store;
}
