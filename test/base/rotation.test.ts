// The certificate-rotation loop under fake timers: renewal at half the lifetime, retries
// with backoff while the old certificate serves, eviction through `keep`, and lifetimes
// longer than setTimeout's ceiling. A "certificate" here is just its serial and expiry.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Rotation } from '../../src/base/rotation.ts';

const H = 3_600_000;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

interface Cert {
  serial: number;
  notAfter: Date;
}

function harness(lifetimeMs: number, fail: (n: number) => boolean = () => false) {
  const installed: [number, number | undefined][] = [];
  const errors: number[] = [];
  let issued = 0;
  let keep = true;
  const rotation = new Rotation<Cert>({
    issue: async () => {
      const n = ++issued;
      if (fail(n)) throw new Error(`issuance ${n} failed`);
      return { serial: n, notAfter: new Date(Date.now() + lifetimeMs) };
    },
    notAfter: (c) => c.notAfter,
    install: (c, previous) => installed.push([c.serial, previous?.serial]),
    onError: (_err, retryIn) => errors.push(retryIn),
    keep: () => keep,
    rand: () => 0.5, // renew at exactly half the lifetime
  });
  return { rotation, installed, errors, issues: () => issued, dropWhenDue: () => (keep = false) };
}

describe('Rotation', () => {
  it('installs the first certificate and renews at half its lifetime, again and again', async () => {
    const h = harness(2 * H);
    await h.rotation.rotate();
    expect(h.installed).toEqual([[1, undefined]]);
    expect(h.rotation.renewAt?.getTime()).toBe(Date.now() + H);
    await vi.advanceTimersByTimeAsync(H - 1);
    expect(h.issues()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.installed).toEqual([
      [1, undefined],
      [2, 1],
    ]);
    await vi.advanceTimersByTimeAsync(H);
    expect(h.rotation.current?.serial).toBe(3);
    h.rotation.stop();
    await vi.advanceTimersByTimeAsync(10 * H);
    expect(h.issues()).toBe(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('retries a failed renewal with doubling backoff while the current certificate keeps serving', async () => {
    const h = harness(2 * H, (n) => n >= 2 && n <= 4);
    await h.rotation.rotate();
    await vi.advanceTimersByTimeAsync(H); // renewal 2 fails
    expect(h.errors).toEqual([2_000]);
    expect(h.rotation.current?.serial).toBe(1);
    await vi.advanceTimersByTimeAsync(2_000); // 3 fails
    await vi.advanceTimersByTimeAsync(4_000); // 4 fails
    expect(h.errors).toEqual([2_000, 4_000, 8_000]);
    await vi.advanceTimersByTimeAsync(7_999);
    expect(h.issues()).toBe(4);
    await vi.advanceTimersByTimeAsync(1); // 5 succeeds; the backoff starts over
    expect(h.rotation.current?.serial).toBe(5);
    expect(h.rotation.renewAt?.getTime()).toBe(Date.now() + H);
  });

  it('rejects a failed first issuance and retries it', async () => {
    const h = harness(2 * H, (n) => n === 1);
    await expect(h.rotation.rotate()).rejects.toThrow('issuance 1 failed');
    expect(h.rotation.current).toBeUndefined();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(h.installed).toEqual([[2, undefined]]);
  });

  it('shares one issuance between concurrent callers', async () => {
    const h = harness(2 * H);
    const [a, b] = await Promise.all([h.rotation.rotate(), h.rotation.rotate()]);
    expect(a).toBe(b);
    expect(h.issues()).toBe(1);
  });

  it('stops instead of renewing when keep() says so', async () => {
    const h = harness(2 * H);
    await h.rotation.rotate();
    h.dropWhenDue();
    await vi.advanceTimersByTimeAsync(H);
    expect(h.issues()).toBe(1);
    expect(h.rotation.stopped).toBe(true);
    await expect(h.rotation.rotate()).rejects.toThrow('rotation stopped');
  });

  it('waits out a lifetime far past setTimeout’s ceiling (a one-year certificate renews after ~6 months)', async () => {
    const year = 365 * 24 * H;
    const h = harness(year);
    await h.rotation.rotate();
    await vi.advanceTimersByTimeAsync(year / 2 - 60_000);
    expect(h.issues()).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.issues()).toBe(2);
  });
});
