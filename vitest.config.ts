import { defineConfig } from 'vitest/config';

// Three tiers (docs/testing.md), one vitest project each; `vitest run` runs them all:
//   unit         test/**/*.test.ts: Node and this repository only (loopback sockets, our own
//                `weft` binary); no Envoy, no API server, no network namespaces, no Go build.
//   integration  test/**/*.integration.test.ts: real Envoy, real gRPC xDS clients, netns.
//   e2e          e2e/**/*.test.ts: the Kubernetes harness (API server, node; e2e/cluster).
// WEFT_TEST_TIER lets test/support/tier.ts refuse a component above a file's tier.
type Tier = 'unit' | 'integration' | 'e2e';
interface Project {
  tier: Tier;
  name?: string;
  include: string[];
  exclude?: string[];
  isolate?: boolean;
  fileParallelism?: boolean;
  setupFiles?: string[];
  env?: Record<string, string>;
}
const project = ({ tier, name = tier, env, ...test }: Project) => ({
  extends: true as const,
  test: { name, ...test, env: { WEFT_TEST_TIER: tier, ...env } },
});

// Brings a node cluster of its own up and down and checks the host is left as found: one node
// per host, so it is a project of its own that scripts/test.sh runs alone, before the shared
// node cluster starts.
const HOST_CLEAN = 'e2e/node/host-clean.test.ts';

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
      project({
        tier: 'unit',
        include: ['test/**/*.test.ts'],
        exclude: ['test/**/*.integration.test.ts', 'test/attack/**'],
        isolate: false,
        setupFiles: ['test/support/unit-setup.ts'],
        env: { FUZZ_REVIEWS: process.env.FUZZ_REVIEWS ?? '3000' },
      }),
      // The attack suite (issue 13, docs/xds-limits.md): loopback only, bounded in count and time,
      // but it loads the machine (a control plane under 10,000 hostile requests) and measures
      // memory and latency, so its files get their own workers rather than the unit tier's.
      // Its findings that need a real Envoy (test/attack/*.integration.test.ts) run in the integration tier.
      // One file at a time: the flood's latency bound (CDS p99 < 200 ms) does not hold with
      // another attack file loading the same 2 cores.
      project({
        tier: 'unit',
        name: 'attack',
        include: ['test/attack/**/*.test.ts'],
        exclude: ['test/attack/**/*.integration.test.ts'],
        fileParallelism: false,
      }),
      project({ tier: 'integration', include: ['test/**/*.integration.test.ts'] }),
      project({ tier: 'e2e', include: ['e2e/**/*.test.ts'], exclude: [HOST_CLEAN] }),
      project({ tier: 'e2e', name: 'e2e-host', include: [HOST_CLEAN] }),
    ],
  },
});
