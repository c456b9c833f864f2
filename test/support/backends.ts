// Backends for tests: the demo backend (examples/backends/server.ts, one implementation),
// stopped automatically after the test file so a failing test never leaks a listener.
import { afterAll } from 'vitest';
import { startBackend as start, type Backend, type BackendOptions } from '../../examples/backends/server.ts';

export { thirtyPercent, type Backend, type BackendOptions, type FailPattern } from '../../examples/backends/server.ts';

const running = new Set<Backend>();

afterAll(async () => {
  await Promise.all([...running].map((b) => b.stop()));
  running.clear();
});

export async function startBackend(opts: BackendOptions): Promise<Backend> {
  const b = await start(opts);
  running.add(b);
  const stop = b.stop;
  return Object.assign(b, {
    stop: async () => {
      running.delete(b);
      await stop();
    },
  });
}
