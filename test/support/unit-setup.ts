// Runs around every unit test file. The unit tier shares each worker's module cache between
// files (isolate: false in vitest.config.ts: importing the protobuf registry and the rest
// once per worker instead of once per file is what keeps the tier within its minute), so a
// file must leave no global state behind: real timers, no spies or mocks, no stubbed env.
import { afterAll, vi } from 'vitest';

afterAll(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});
