// Leader election edge cases against an in-memory Lease (no API server): a renew that hangs
// past renewDeadline, and a shutdown that races with the first acquisition. Time is vitest's
// fake timers (the elector's default clock reads them): no test waits real time.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KubeApiError, type KubeClient } from '../../src/k8s/client.ts';
import { LeaderElector } from '../../src/runtime/controller/leader.ts';

interface Lease {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: { holderIdentity?: string };
}

/** One Lease in memory; `gate` (when set) holds every request until it resolves. */
function fakeClient() {
  const state: { lease: Lease | undefined; rv: number; gate: Promise<void> | undefined; calls: string[] } = {
    lease: undefined,
    rv: 1,
    gate: undefined,
    calls: [],
  };
  const client = {
    async request(method: string, _path: string, opts: { body?: unknown } = {}): Promise<unknown> {
      state.calls.push(method);
      if (state.gate) await state.gate;
      if (method === 'GET') {
        if (!state.lease) throw new KubeApiError(404, 'NotFound', 'not found');
        return structuredClone(state.lease);
      }
      const body = structuredClone(opts.body) as Lease;
      if (method === 'PUT' && body.metadata.resourceVersion !== state.lease?.metadata.resourceVersion) throw new KubeApiError(409, 'Conflict', 'conflict');
      body.metadata.resourceVersion = String(++state.rv);
      state.lease = body;
      return structuredClone(body);
    },
  };
  return { state, client: client as unknown as KubeClient };
}

const electors: LeaderElector[] = [];
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.release()));
  vi.useRealTimers();
});

describe('LeaderElector', () => {
  it('stops reporting leadership once renewDeadline passed without a renewal, even while the renew hangs', async () => {
    const { state, client } = fakeClient();
    const e = new LeaderElector({ client, namespace: 'ns', identity: 'a', leaseDurationMs: 1_500, renewDeadlineMs: 400, retryPeriodMs: 100 });
    electors.push(e);
    e.start();
    await vi.advanceTimersByTimeAsync(0); // the first acquire: no lease yet, created
    expect(e.isLeader()).toBe(true);
    let open!: () => void;
    state.gate = new Promise((r) => (open = r)); // the API server stops answering
    await vi.advanceTimersByTimeAsync(400); // renewDeadline, exactly
    expect(e.isLeader()).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    const stillLeader = e.isLeader();
    open();
    state.gate = undefined;
    expect(stillLeader).toBe(false);
  });

  it('release() gives the lease back when it was acquired while shutting down', async () => {
    const { state, client } = fakeClient();
    const e = new LeaderElector({ client, namespace: 'ns', identity: 'a', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
    let open!: () => void;
    state.gate = new Promise((r) => (open = r));
    e.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(state.calls).toEqual(['GET']);
    const released = e.release(); // the first acquire is in flight
    open();
    state.gate = undefined;
    await released;
    expect(state.lease?.spec?.holderIdentity).toBe('');
    expect(e.isLeader()).toBe(false);
  });

  it('keeps campaigning when a leadership listener throws', async () => {
    const { state, client } = fakeClient();
    const e = new LeaderElector({ client, namespace: 'ns', identity: 'a', leaseDurationMs: 1_500, renewDeadlineMs: 400, retryPeriodMs: 50 });
    e.on('started', () => {
      throw new Error('listener bug');
    });
    e.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(e.isLeader()).toBe(true);
    const calls = state.calls.length;
    await vi.advanceTimersByTimeAsync(50); // one retryPeriod: a renewal (GET + PUT)
    expect(state.calls.slice(calls)).toEqual(['GET', 'PUT']);
    expect(e.isLeader()).toBe(true);
    await e.release();
    expect(state.lease?.spec?.holderIdentity).toBe('');
  });
});
