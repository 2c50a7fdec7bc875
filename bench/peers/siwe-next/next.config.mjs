// The logins peer (bench/peers/siwe-next-server.ts): a Next app of two route handlers, built
// the way the popular Sign-In with Ethereum guides build it. Its own build goes to .next here.
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export default {
  poweredByHeader: false,
  turbopack: { root },
  outputFileTracingRoot: root,
};
