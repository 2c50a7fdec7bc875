import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["{lib,server,components,scripts,bench}/**/*.test.ts", "test/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Protocol and multi-node suites start real servers: keep files apart.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
