import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["{lib,server,components,scripts,bench}/**/*.test.ts", "test/**/*.test.ts"],
    environment: "node",
    // Generous: these suites start real servers, and a shared 2-core machine under load runs
    // them three times slower than a quiet one. A hang still fails, a slow machine does not.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Protocol and multi-node suites start real servers: keep files apart.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
