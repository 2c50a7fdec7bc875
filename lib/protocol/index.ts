export * from "./errors";
export * from "./login";
export * from "./siwe";
export * from "./login-schemas";
