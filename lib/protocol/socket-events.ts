import { SOCKET_EVENTS as LOGIN_SOCKET_EVENTS, type ClientToServerEvents, type ServerToClientEvents } from "./login";
import { CHANNEL_SOCKET_EVENTS, type ChannelClientToServerEvents, type ChannelServerToClientEvents } from "./channels";
import { PUSH_SOCKET_EVENTS, type PushClientToServerEvents, type PushServerToClientEvents } from "./push";

/**
 * The one Socket.IO event map of the server (sections 1, 2 and 5): clients may use the login or the
 * channel half alone; the server and its handlers use the whole of it.
 */
export type SocketClientToServerEvents = ClientToServerEvents & ChannelClientToServerEvents & PushClientToServerEvents;
export type SocketServerToClientEvents = ServerToClientEvents & ChannelServerToClientEvents & PushServerToClientEvents;

/** The answer an event's ack carries, from the map (`never` for an event without an ack). */
export type AckOf<E extends keyof SocketClientToServerEvents> = Parameters<SocketClientToServerEvents[E]>[1] extends
  ((res: infer R) => void) | undefined
  ? R
  : never;

/**
 * Every event name of the map, both directions (sections 1, 2 and 5): test/docs/protocol-doc.test.ts
 * requires each to be named in docs/protocol.md with a tested example.
 */
export const ALL_SOCKET_EVENTS: readonly string[] = [
  ...Object.values(LOGIN_SOCKET_EVENTS),
  ...Object.values(CHANNEL_SOCKET_EVENTS),
  ...Object.values(PUSH_SOCKET_EVENTS),
];

type ListedEvent =
  | (typeof LOGIN_SOCKET_EVENTS)[keyof typeof LOGIN_SOCKET_EVENTS]
  | (typeof CHANNEL_SOCKET_EVENTS)[keyof typeof CHANNEL_SOCKET_EVENTS]
  | (typeof PUSH_SOCKET_EVENTS)[keyof typeof PUSH_SOCKET_EVENTS];
/** Does not compile while the map has an event the lists above do not name (the type names it). */
type UnlistedEvent = Exclude<keyof SocketClientToServerEvents | keyof SocketServerToClientEvents, ListedEvent>;
export const _everyEventListed: [UnlistedEvent] extends [never] ? true : UnlistedEvent = true;
