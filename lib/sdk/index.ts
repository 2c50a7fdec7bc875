/**
 * The isomorphic SDKs: signed data fetches and the browser's channels client. The Node-only
 * server SDK (channels REST API, Pusher signing) is lib/sdk/node.
 */
export * from "./data-client";
export * from "./channels-client";
