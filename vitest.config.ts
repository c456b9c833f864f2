import { defineConfig } from 'vitest/config';

// Three tiers (docs/testing.md), one vitest project each; `vitest run` (make test) runs all:
//   unit         test/**/*.test.ts: Node and this repository only (loopback sockets, our own
//                `weft` binary); no Envoy, no API server, no network namespaces, no Go build.
//   integration  test/**/*.integration.test.ts: real Envoy, real gRPC xDS clients, netns.
//   e2e          e2e/**/*.test.ts: the Kubernetes harness (API server, node; e2e/cluster).
// WEFT_TEST_TIER lets test/support/tier.ts refuse a component above a file's tier.
const tier = (
  name: 'unit' | 'integration' | 'e2e',
  include: string[],
  exclude: string[] = [],
  extra: { env?: Record<string, string>; isolate?: boolean; setupFiles?: string[] } = {},
) => ({
  extends: true as const,
  test: { name, include, exclude, ...extra, env: { WEFT_TEST_TIER: name, ...extra.env } },
});

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      // Unit files share each worker's module cache (isolate: false; the setup file restores
      // timers, mocks and env after each file), and the /inject property test samples 3,000
      // reviews (make test: all 10,000): together they keep the tier within a minute.
      tier('unit', ['test/**/*.test.ts'], ['test/**/*.integration.test.ts'], {
        isolate: false,
        setupFiles: ['test/support/unit-setup.ts'],
        env: { FUZZ_REVIEWS: process.env.FUZZ_REVIEWS ?? '3000' },
      }),
      tier('integration', ['test/**/*.integration.test.ts']),
      tier('e2e', ['e2e/**/*.test.ts']),
    ],
  },
});
