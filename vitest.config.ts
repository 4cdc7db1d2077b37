import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Kernel tests share global kernel state (bpffs, netns); files run in parallel, tests within a file serially.
    fileParallelism: true,
    pool: "forks",
  },
});
