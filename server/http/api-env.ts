import type { HttpBindings } from "@hono/node-server";

/** The Hono environment every API route shares: Node bindings and the authorized caller. */
export type ApiEnv = {
  Bindings: HttpBindings;
  Variables: { auth: { userId: string; address: string } };
};
