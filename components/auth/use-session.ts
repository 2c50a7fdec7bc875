"use client";

import { useContext } from "react";
import { useStore } from "zustand";
import { SessionStoreContext } from "./session-context";
import type { SessionState, SessionStore } from "./session-store";

export function useSessionStore(): SessionStore {
  const store = useContext(SessionStoreContext);
  if (store === null) throw new Error("useSession must be used inside <SessionProvider>.");
  return store;
}

/** Reads from the page's session store, e.g. `useSession((s) => s.user)`. */
export function useSession<T>(selector: (state: SessionState) => T): T {
  return useStore(useSessionStore(), selector);
}
