"use client";

import { useEffect, useRef, useState } from "react";
import type { ChannelEventHandler, ChannelsClientError } from "../../lib/sdk/channels-client";
import { useChannelsClient } from "./use-channels-client";

export interface ChannelStatus {
  /** The server has acknowledged the subscribe on the current connection. */
  isSubscribed: boolean;
  /** The last failed subscribe (cleared by the next success); retried after a reconnect. */
  error: ChannelsClientError | null;
}

const UNSUBSCRIBED: ChannelStatus = { isSubscribed: false, error: null };

/**
 * Subscribes to `channel` while mounted and calls the latest `handler` for each `event`
 * on it. A null channel subscribes to nothing (e.g. before the user id is known).
 */
export function useChannel(channel: string | null, event: string, handler: ChannelEventHandler): ChannelStatus {
  const client = useChannelsClient();
  const [status, setStatus] = useState<ChannelStatus>(UNSUBSCRIBED);
  const handlerRef = useRef(handler);
  useEffect(() => {
    handlerRef.current = handler;
  }, [handler]);

  useEffect(() => {
    if (client === null || channel === null) return;
    const subscription = client.subscribe(channel);
    subscription.bind(event, (data, payload) => handlerRef.current(data, payload));
    const sync = (error: ChannelsClientError | null) => setStatus({ isSubscribed: subscription.isSubscribed(), error });
    subscription.onSubscribed(() => sync(null));
    subscription.onError((error) => sync(error));
    const { socket } = client;
    const onDisconnect = () => setStatus((current) => ({ ...current, isSubscribed: false }));
    socket.on("disconnect", onDisconnect);
    if (subscription.isSubscribed()) sync(null);
    return () => {
      socket.off("disconnect", onDisconnect);
      subscription.unsubscribe();
      setStatus(UNSUBSCRIBED);
    };
  }, [client, channel, event]);

  return status;
}
