import { defineConfig } from 'vitest/config';

// Unit and integration tests run in one pass; suites that need Envoy or the cluster
// harness start those real components themselves (see test/support and e2e/).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
