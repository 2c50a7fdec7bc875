"use client";

import "../ui/zod-jitless";
import { useEffect, useState } from "react";
import type { ReactNode } from "react";
import { createSessionClient } from "../../lib/client/session-client";
import { SessionStoreContext } from "./session-context";
import { createSessionStore } from "./session-store";

// Tells the other tabs of this origin that the session ended, so none keeps showing it.
const SIGN_OUT_CHANNEL = "wallet-login-session";

export interface SessionProviderProps {
  /** Origin of the app's API; the page's own origin when left out. */
  endpoint?: string;
  children: ReactNode;
}

/** Holds one page's session (see session-store.ts); wrap the app once, in the root layout. */
export function SessionProvider({ endpoint, children }: SessionProviderProps) {
  const [store] = useState(() => createSessionStore(createSessionClient({ endpoint })));

  useEffect(() => {
    if (typeof BroadcastChannel === "undefined") return;
    const channel = new BroadcastChannel(SIGN_OUT_CHANNEL);
    let isFromOtherTab = false;
    channel.onmessage = (event: MessageEvent) => {
      if (event.data !== "signed-out") return;
      isFromOtherTab = true;
      store.getState().forget();
      isFromOtherTab = false;
    };
    const unsubscribe = store.subscribe((state, previous) => {
      if (isFromOtherTab || state.status !== "signed-out" || previous.status !== "signed-in") return;
      channel.postMessage("signed-out");
    });
    return () => {
      unsubscribe();
      channel.close();
    };
  }, [store]);

  return <SessionStoreContext value={store}>{children}</SessionStoreContext>;
}
