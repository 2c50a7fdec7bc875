import type { ClientToServerEvents, ServerToClientEvents } from "./login";
import type { ChannelClientToServerEvents, ChannelServerToClientEvents } from "./channels";
import type { PushClientToServerEvents, PushServerToClientEvents } from "./push";

/**
 * The one Socket.IO event map of the server (sections 1 and 2): clients may use the login or the
 * channel half alone; the server and its handlers use the whole of it.
 */
export type SocketClientToServerEvents = ClientToServerEvents & ChannelClientToServerEvents & PushClientToServerEvents;
export type SocketServerToClientEvents = ServerToClientEvents & ChannelServerToClientEvents & PushServerToClientEvents;

/** The answer an event's ack carries, from the map (`never` for an event without an ack). */
export type AckOf<E extends keyof SocketClientToServerEvents> = Parameters<SocketClientToServerEvents[E]>[1] extends
  ((res: infer R) => void) | undefined
  ? R
  : never;
