/** The Node-only server SDK: channels over the Pusher-compatible REST API, and its signing. */
export * from "./realtime-server";
export * from "./pusher-signing";
