// Leader election against an API server that fails (issue 13, Medium 10): a follower that
// had seen another replica hold the lease retried every 10 ms once that lease looked expired
// (143k warnings in a 30-minute outage; 389 × 401 in 20 s). Counted here on fake timers: the
// requests per second while every request fails, refused (401) or unreachable.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KubeApiError, type KubeClient } from '../../src/k8s/client.ts';
import { LeaderElector } from '../../src/runtime/controller/leader.ts';

/** A lease held by `other` on the first GET; every request after that fails with `fail()`. */
function failingAfterFirst(fail: () => Error) {
  const times: number[] = [];
  const client = {
    async request(method: string): Promise<unknown> {
      times.push(Date.now());
      if (times.length === 1 && method === 'GET') {
        return { metadata: { name: 'weft-controller', resourceVersion: '1' }, spec: { holderIdentity: 'other', leaseDurationSeconds: 15 } };
      }
      throw fail();
    },
  };
  return { times, client: client as unknown as KubeClient };
}

const electors: LeaderElector[] = [];
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(async () => {
  for (const e of electors.splice(0)) void e.release();
  await vi.advanceTimersByTimeAsync(1);
  vi.useRealTimers();
});

const cases: [string, () => Error][] = [
  ['refused (401)', () => new KubeApiError(401, 'Unauthorized', 'Unauthorized')],
  ['unreachable (connection refused)', () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' })],
];

describe('leader election while the API server fails', () => {
  for (const [name, fail] of cases) {
    it(`backs off with jitter when every request is ${name}`, async () => {
      const { times, client } = failingAfterFirst(fail);
      const e = new LeaderElector({
        client,
        namespace: 'ns',
        identity: 'a',
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
        random: () => 0.5,
      });
      electors.push(e);
      e.start();
      await vi.advanceTimersByTimeAsync(10 * 60_000); // ten minutes of outage
      const t0 = times[0]!;
      const lastMinute = times.filter((t) => t >= t0 + 9 * 60_000).length;
      const perSecond = (times.length - 1) / 600;
      console.log(`leader figures ${JSON.stringify({ case: name, requests: times.length, perSecond: Number(perSecond.toFixed(3)), lastMinute })}`);
      // Doubling from 2 s to the 15 s lease duration, +10 % jitter: 2.2, 4.4, 8.8, then 16.5 s apart.
      expect(times.length).toBeLessThan(45);
      expect(lastMinute).toBeLessThanOrEqual(4);
      const gaps = times.slice(2).map((t, i) => t - times[i + 1]!);
      expect(gaps.slice(0, 4)).toEqual([2_200, 4_400, 8_800, 16_500]);
      expect(e.isLeader()).toBe(false);
    });
  }

  it('spreads replicas: the jitter is drawn per retry', async () => {
    const { times, client } = failingAfterFirst(() => new KubeApiError(401, 'Unauthorized', 'Unauthorized'));
    const draws = [0, 0.99, 0.5];
    let i = 0;
    const e = new LeaderElector({ client, namespace: 'ns', identity: 'a', retryPeriodMs: 2_000, random: () => draws[i++ % draws.length]! });
    electors.push(e);
    e.start();
    await vi.advanceTimersByTimeAsync(20_000);
    const gaps = times.slice(2).map((t, k) => t - times[k + 1]!);
    expect(gaps.slice(0, 3)).toEqual([Math.round(2_000 * 1.198), Math.round(4_000 * 1.1), 8_000]);
  });
});
