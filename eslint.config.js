import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

// ARCHITECTURE.md: dependencies point one way. lib/ imports nothing of ours;
// components/ only lib/; server/ only lib/; app/ any of them.
const banned = (...folders) => ({
  "no-restricted-imports": [
    "error",
    {
      patterns: folders.map((folder) => ({
        regex: `^(\\.\\./)+${folder}(/|$)`,
        message: `ARCHITECTURE.md: this folder may not import from ${folder}/.`,
      })),
    },
  ],
});

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
  { files: ["lib/**"], rules: banned("server", "components", "app", "scripts") },
  { files: ["components/**"], rules: banned("server", "app", "scripts") },
  { files: ["server/**"], rules: banned("components", "app") },
);
