import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default", "./test/support/summary-reporter.ts"],
    pool: "forks",
    coverage: {
      provider: "v8",
      include: ["src/model/**", "src/engine/**", "src/policy/**", "src/scoring/**", "src/detectors/**"],
      thresholds: { lines: 80 },
    },
  },
});
