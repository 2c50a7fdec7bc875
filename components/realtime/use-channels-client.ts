"use client";

import { useContext } from "react";
import type { ChannelsClient } from "../../lib/sdk/channels-client";
import { ChannelsClientContext } from "./channels-context";

/** The nearest provider's client; null until it has connected once mounted. */
export function useChannelsClient(): ChannelsClient | null {
  const client = useContext(ChannelsClientContext);
  if (client === undefined) throw new Error("Channel hooks must be used inside <ChannelsProvider>.");
  return client;
}
