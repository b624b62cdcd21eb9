import { defineConfig } from "vitest/config"

// Two projects: `unit` needs nothing but Node; `integration` shares one local control plane per run
// (started by the global setup) and gives every test file its own namespaces.
export default defineConfig({
  test: {
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          exclude: ["test/integration/node/**"],
          globalSetup: ["test/integration/setup/global.ts"],
          testTimeout: 180_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      // A real node (kubelet, containerd, CoreDNS) beside the kwok node; needs root. Opt-in for now
      // (`npm run test:node`) until it has proven itself in CI.
      ...(process.env.LANGOP_REAL_NODE_TESTS === "1"
        ? [
            {
              test: {
                name: "node",
                include: ["test/integration/node/**/*.test.ts"],
                globalSetup: ["test/integration/node/setup.ts"],
                testTimeout: 180_000,
                hookTimeout: 1_800_000,
                fileParallelism: false,
              },
            },
          ]
        : []),
      {
        test: {
          // Real LiteLLM proxies (pinned, installed into a venv outside the repo by the tests' setup).
          name: "contract",
          include: ["test/contract/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
