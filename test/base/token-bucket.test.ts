// The token bucket under fake timers: a burst passes at once, the rest at the rate.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenBucket } from '../../src/base/token-bucket.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('TokenBucket', () => {
  it('lets the burst through at once, then one token per 1/rate', async () => {
    const bucket = new TokenBucket(10, 3); // 10/s: one token per 100 ms
    const taken: number[] = [];
    const start = Date.now();
    const all = Promise.all(Array.from({ length: 5 }, () => bucket.take().then(() => taken.push(Date.now() - start))));
    await vi.advanceTimersByTimeAsync(0);
    expect(taken).toEqual([0, 0, 0]);
    await vi.advanceTimersByTimeAsync(99);
    expect(taken).toHaveLength(3); // the fourth waits for its token
    await vi.advanceTimersByTimeAsync(1);
    expect(taken).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(100);
    await all;
    expect(taken).toEqual([0, 0, 0, 100, 200]);
  });

  it('refills to the burst, not beyond, while idle', async () => {
    const bucket = new TokenBucket(10, 2);
    await bucket.take();
    await bucket.take();
    await vi.advanceTimersByTimeAsync(60_000);
    let n = 0;
    const p = Promise.all([1, 2, 3].map(() => bucket.take().then(() => n++)));
    await vi.advanceTimersByTimeAsync(0);
    expect(n).toBe(2);
    await vi.advanceTimersByTimeAsync(100);
    await p;
    expect(n).toBe(3);
  });
});
