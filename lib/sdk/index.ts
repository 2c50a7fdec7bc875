/** The SDKs a partner's server uses: channels (Pusher-compatible REST) and signed data fetches. */
export * from "./realtime-server";
export * from "./data-client";
