// The debounce and the clock under vitest's fake timers: the system clock reads the faked
// globals, so nothing is injected and no test waits real time.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/base/clock.ts';
import { Debouncer } from '../../src/base/debounce.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Debouncer', () => {
  it('fires once, holdoff after the last trigger of a burst', () => {
    const fire = vi.fn();
    const d = new Debouncer({ holdoffMs: 100, maxDelayMs: 500 }, fire);
    d.trigger();
    vi.advanceTimersByTime(60);
    d.trigger();
    vi.advanceTimersByTime(99);
    expect(fire).not.toHaveBeenCalled();
    expect(d.pending).toBe(true);
    vi.advanceTimersByTime(1);
    expect(fire).toHaveBeenCalledTimes(1);
    expect(d.pending).toBe(false);
    vi.advanceTimersByTime(10_000);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it('fires by the max delay under a steady stream of triggers, then starts a new burst', () => {
    const fire = vi.fn();
    const d = new Debouncer({ holdoffMs: 100, maxDelayMs: 500 }, fire);
    for (let t = 0; t < 500; t += 50) {
      d.trigger();
      vi.advanceTimersByTime(50);
    }
    expect(fire).toHaveBeenCalledTimes(1); // at 500 ms, though a trigger came 50 ms before
    d.trigger();
    vi.advanceTimersByTime(99);
    expect(fire).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(fire).toHaveBeenCalledTimes(2);
  });

  it('with no holdoff, coalesces the triggers of one event-loop turn', () => {
    const fire = vi.fn();
    const d = new Debouncer({ holdoffMs: 0, maxDelayMs: 0 }, fire);
    d.trigger();
    d.trigger();
    d.trigger();
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(0);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it('a burst of triggers arms one timer (10,000 dirty streams), and the last trigger still sets the time', () => {
    const fire = vi.fn();
    const armed = vi.fn();
    const clock = { ...systemClock, setTimeout: (f: () => void, ms: number) => (armed(), systemClock.setTimeout(f, ms)) };
    const d = new Debouncer({ holdoffMs: 100, maxDelayMs: 500, clock }, fire);
    for (let i = 0; i < 10_000; i++) d.trigger();
    expect(armed).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(80);
    d.trigger(); // due now at 180
    vi.advanceTimersByTime(99);
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fire).toHaveBeenCalledTimes(1);
    expect(armed).toHaveBeenCalledTimes(2); // the timer woke at 100 and re-armed once for the rest
  });

  it('cancel drops a pending fire', () => {
    const fire = vi.fn();
    const d = new Debouncer({ holdoffMs: 100, maxDelayMs: 500 }, fire);
    d.trigger();
    d.cancel();
    vi.advanceTimersByTime(1_000);
    expect(fire).not.toHaveBeenCalled();
    expect(d.pending).toBe(false);
  });
});

describe('systemClock', () => {
  it('follows fake timers: now, monotonic, setTimeout and sleep', async () => {
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    const wall = systemClock.now();
    const mono = systemClock.monotonic();
    const slept = vi.fn();
    void systemClock.sleep(1_000).then(slept);
    await vi.advanceTimersByTimeAsync(999);
    expect(slept).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(slept).toHaveBeenCalled();
    expect(systemClock.now() - wall).toBe(1_000);
    expect(systemClock.monotonic() - mono).toBe(1_000);
  });

  it('sleep rejects with the abort reason, and its timer is gone', async () => {
    const ac = new AbortController();
    const p = systemClock.sleep(60_000, ac.signal);
    ac.abort(new Error('stopping'));
    await expect(p).rejects.toThrow('stopping');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clamps a delay past setTimeout’s ceiling instead of firing at once', () => {
    const fn = vi.fn();
    systemClock.setTimeout(fn, 40 * 24 * 3_600_000);
    vi.advanceTimersByTime(24 * 3_600_000);
    expect(fn).not.toHaveBeenCalled();
  });
});
