import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";
import { createNodeResolver, importX } from "eslint-plugin-import-x";

// ARCHITECTURE.md: dependencies point one way. lib/ imports nothing of ours;
// components/ only lib/; server/ only lib/; app/ any of them.
const folder = (name) => ({
  regex: `^(\\.\\./)+${name}(/|$)`,
  message: `ARCHITECTURE.md: this folder may not import from ${name}/.`,
});
// lib/ runs in browsers too: Node's built-ins only in lib/sdk/node/ (the Node-only server SDK).
const NODE_BUILTIN = {
  regex:
    "^node:|^(assert|buffer|child_process|cluster|crypto|dgram|dns|events|fs|http|http2|https|module|net|os|path|perf_hooks|process|querystring|readline|stream|tls|url|util|v8|vm|worker_threads|zlib)(/|$)",
  message: "lib/ and components/ are isomorphic: Node built-ins only in lib/sdk/node/ and server/.",
};
const NODE_SDK = {
  regex: "(^|/)sdk/node(/|$)|^\\./node(/|$)",
  message: "lib/sdk/node/ is Node-only: an isomorphic module or a client bundle may not import it.",
};
const banned = (folders, extra = []) => ({
  "no-restricted-imports": ["error", { patterns: [...folders.map(folder), ...extra] }],
});

// Server-only code stays out of client bundles: a "use client" module (app/ or components/)
// may not import server/, lib/sdk/node/ or a Node built-in. (The `server-only` package cannot
// mark server/ itself: it throws when plain Node loads it, and the custom server is plain Node.)
const SERVER_ONLY_SOURCE = /(^|\/)server(\/|$)|(^|\/)sdk\/node(\/|$)|^node:/;
const localPlugin = {
  rules: {
    "no-server-import-in-client": {
      meta: { type: "problem", schema: [] },
      create(context) {
        const body = context.sourceCode.ast.body;
        const isClient = body.some((node) => node.type === "ExpressionStatement" && node.directive === "use client");
        if (!isClient) return {};
        const check = (node) => {
          if (node.source && SERVER_ONLY_SOURCE.test(String(node.source.value))) {
            context.report({
              node,
              message: `A "use client" module may not import ${node.source.value}: server-only code would reach the browser bundle.`,
            });
          }
        };
        return {
          ImportDeclaration: check,
          ExportNamedDeclaration: check,
          ExportAllDeclaration: check,
          ImportExpression: check,
        };
      },
    },
  },
};

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "**/.next/",
      "dist/",
      ".data/",
      "generated/",
      "coverage/",
      "test-results/",
      "playwright-report/",
      "next-env.d.ts",
      "scripts/prisma-schema-engine.mjs",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  // No import cycles (ISSUE 13): a module and what it imports form a tree. Type-only imports are
  // not followed (they vanish at runtime).
  {
    files: ["**/*.{ts,tsx,js,mjs}"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/extensions": [".ts", ".tsx", ".js", ".mjs"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts", ".tsx"] },
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".tsx", ".js", ".mjs", ".json"] })],
    },
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
  { files: ["lib/**"], rules: banned(["server", "components", "app", "scripts"], [NODE_BUILTIN, NODE_SDK]) },
  // The Node-only SDK, and tests (which run in Node).
  { files: ["lib/sdk/node/**", "lib/**/*.test.ts"], rules: banned(["server", "components", "app", "scripts"]) },
  { files: ["components/**"], rules: banned(["server", "app", "scripts"], [NODE_BUILTIN, NODE_SDK]) },
  { files: ["server/**"], rules: banned(["components", "app"]) },
  {
    files: ["app/**/*.{ts,tsx}", "components/**/*.{ts,tsx}"],
    plugins: { local: localPlugin },
    rules: { "local/no-server-import-in-client": "error" },
  },
);
