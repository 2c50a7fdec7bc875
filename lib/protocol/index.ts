export * from "./errors";
export * from "./login";
export * from "./siwe";
export * from "./login-schemas";
export * from "./channels";
export * from "./channel-schemas";
export * from "./socket-events";
