"use client";

import { useEffect, useRef, useState } from "react";
import type { ReactNode } from "react";
import { createChannelsClient } from "../../lib/sdk/channels-client";
import type { ChannelsClient } from "../../lib/sdk/channels-client";
import { ChannelsClientContext } from "./channels-context";

export interface ChannelsProviderProps {
  /** Origin of the app; the page's own origin when left out. */
  endpoint?: string;
  /** The signed-in user's access token (kept in memory by the session provider). */
  getAccessToken: () => Promise<string | null> | string | null;
  children: ReactNode;
}

/**
 * Opens one channels connection for its subtree and closes it on unmount. The client
 * belongs to this provider instance (never module-global) and is created in an effect,
 * so StrictMode's mount, unmount, mount leaves exactly one open connection.
 */
export function ChannelsProvider({ endpoint, getAccessToken, children }: ChannelsProviderProps) {
  const [client, setClient] = useState<ChannelsClient | null>(null);
  // The latest getter, read at auth time: a new function identity never reconnects.
  const getTokenRef = useRef(getAccessToken);
  useEffect(() => {
    getTokenRef.current = getAccessToken;
  }, [getAccessToken]);

  useEffect(() => {
    const created = createChannelsClient({
      ...(endpoint === undefined ? {} : { endpoint }),
      getAccessToken: () => getTokenRef.current(),
    });
    setClient(created);
    return () => {
      created.close();
      setClient((current) => (current === created ? null : current));
    };
  }, [endpoint]);

  return <ChannelsClientContext.Provider value={client}>{children}</ChannelsClientContext.Provider>;
}
