// The single-flight reconcile loop under fake timers: passes never overlap, triggers during a
// pass coalesce into one rerun, the period re-triggers, stop waits for the running pass.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReconcileLoop } from '../../src/base/reconcile-loop.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A pass that takes `ms` of (fake) time and records overlap. */
function slowPass(ms: number) {
  const stats = { passes: 0, active: 0, maxActive: 0 };
  const pass = async (): Promise<void> => {
    stats.passes++;
    stats.active++;
    stats.maxActive = Math.max(stats.maxActive, stats.active);
    await new Promise((r) => setTimeout(r, ms));
    stats.active--;
  };
  return { stats, pass };
}

describe('ReconcileLoop', () => {
  it('runs one pass at a time; any number of triggers during a pass make one more', async () => {
    const { stats, pass } = slowPass(100);
    const loop = new ReconcileLoop({ pass, onError: () => {} });
    const first = loop.trigger();
    for (let i = 0; i < 5; i++) void loop.trigger();
    await vi.advanceTimersByTimeAsync(100);
    expect(stats.passes).toBe(2); // the rerun started right after the first
    await vi.advanceTimersByTimeAsync(100);
    await first;
    expect(stats).toEqual({ passes: 2, active: 0, maxActive: 1 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stats.passes).toBe(2); // no period: nothing more
  });

  it('re-triggers every intervalMs after start, and not after stop', async () => {
    const { stats, pass } = slowPass(10);
    const loop = new ReconcileLoop({ pass, onError: () => {}, intervalMs: 1_000 });
    loop.start();
    await vi.advanceTimersByTimeAsync(3_500);
    expect(stats.passes).toBe(4); // at 0, 1 s, 2 s, 3 s
    await loop.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stats.passes).toBe(4);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reports a throwing pass and keeps going', async () => {
    const errors: unknown[] = [];
    let n = 0;
    const loop = new ReconcileLoop({
      pass: async () => {
        if (++n === 1) throw new Error('boom');
      },
      onError: (err) => errors.push(err),
    });
    await loop.trigger();
    await loop.trigger();
    expect(n).toBe(2);
    expect(errors).toEqual([new Error('boom')]);
  });

  it('stop waits for the running pass and refuses new ones', async () => {
    const { stats, pass } = slowPass(100);
    const loop = new ReconcileLoop({ pass, onError: () => {} });
    void loop.trigger();
    void loop.trigger(); // a rerun was due: stop cancels it
    const stopped = loop.stop();
    let done = false;
    void stopped.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(99);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
    expect(loop.stopped).toBe(true);
    await loop.trigger();
    expect(stats.passes).toBe(1);
  });
});
