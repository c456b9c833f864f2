// StatusWriter against a fake API server: a 409 retry must not write once leadership is gone.
// Each test runs one pass to its end (trigger() resolves when it finished): no waiting.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KubeApiError, type KubeClient } from '../../src/k8s/client.ts';
import type { ConfigEntry } from '../../src/sources/kube-source.ts';
import { StatusWriter } from '../../src/runtime/controller/status-writer.ts';
import type { ObservedStatus } from '../../src/api/observed-status.ts';

const invalid: ConfigEntry = {
  kind: 'TrafficSplit',
  id: 'TrafficSplit/ns/ts',
  namespace: 'ns',
  name: 'ts',
  generation: 1,
  resourceVersion: '10',
  result: { ok: false, problems: [{ field: 'spec', reason: 'bad' }] },
  fingerprint: 'x',
  status: { conditions: [] },
};

describe('StatusWriter', () => {
  it('does not retry a conflicted write after losing leadership during the re-read', async () => {
    let leader = true;
    const patches: unknown[] = [];
    const client = {
      async request(method: string): Promise<unknown> {
        if (method === 'PATCH') {
          patches.push(method);
          throw new KubeApiError(409, 'Conflict', 'the object has been modified');
        }
        // The re-read after the conflict: meanwhile this replica lost the lease.
        leader = false;
        return { metadata: { resourceVersion: '11' }, status: {} };
      },
    } as unknown as KubeClient;
    const writer = new StatusWriter({
      client,
      policies: () => [invalid],
      proxies: { model: () => undefined, streams: () => [], snapshotFor: () => undefined },
      isLeader: () => leader,
      fieldManager: 'test',
      resyncMs: 60_000,
    });
    await writer.trigger();
    await writer.stop();
    expect(patches.length).toBe(1);
  });

  it('stamps a condition that transitions on a conflict retry with the current time, not an old one', async () => {
    const T0 = '2020-01-01T00:00:00Z';
    const entry: ConfigEntry = {
      ...invalid,
      status: { conditions: [{ type: 'Accepted', status: 'False', reason: 'Invalid', message: 'old', lastTransitionTime: T0 }] },
    };
    const bodies: { status: { conditions: { type: string; lastTransitionTime: string }[] } }[] = [];
    const client = {
      async request(method: string, _path: string, opts: { body?: unknown }): Promise<unknown> {
        if (method === 'PATCH') {
          bodies.push(structuredClone(opts.body) as (typeof bodies)[number]);
          if (bodies.length === 1) throw new KubeApiError(409, 'Conflict', 'the object has been modified');
          return { metadata: { resourceVersion: '12' } };
        }
        // Someone else flipped Accepted to True meanwhile: our False is a new transition.
        return {
          metadata: { resourceVersion: '11' },
          status: { conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '', lastTransitionTime: '2020-06-01T00:00:00Z' }] },
        };
      },
    } as unknown as KubeClient;
    const writer = new StatusWriter({
      client,
      policies: () => [entry],
      proxies: { model: () => undefined, streams: () => [], snapshotFor: () => undefined },
      isLeader: () => true,
      fieldManager: 'test',
      resyncMs: 60_000,
    });
    const before = Date.now() - 2_000;
    await writer.trigger();
    await writer.stop();
    expect(bodies.length).toBe(2);
    const accepted = bodies[1]!.status.conditions.find((c) => c.type === 'Accepted')!;
    expect(Date.parse(accepted.lastTransitionTime)).toBeGreaterThan(before);
  });
});

describe('StatusWriter resyncs (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes a status once, however many resync passes follow, whether or not the informer has caught up', async () => {
    for (const informerCatchesUp of [true, false]) {
      let entry: ConfigEntry = { ...invalid, status: { conditions: [] } };
      const patches: unknown[] = [];
      const client = {
        async request(method: string, _path: string, opts: { body?: { status: ObservedStatus } }): Promise<unknown> {
          if (method !== 'PATCH') throw new Error(`unexpected ${method}`);
          patches.push(opts.body);
          const rv = String(11 + patches.length);
          if (informerCatchesUp) entry = { ...entry, resourceVersion: rv, status: opts.body!.status };
          return { metadata: { resourceVersion: rv } };
        },
      } as unknown as KubeClient;
      const writer = new StatusWriter({
        client,
        policies: () => [entry],
        proxies: { model: () => undefined, streams: () => [], snapshotFor: () => undefined },
        isLeader: () => true,
        fieldManager: 'test',
        resyncMs: 1_000,
      });
      writer.start();
      await vi.advanceTimersByTimeAsync(10_000); // ten resync passes
      await writer.stop();
      expect(patches, `informer catches up: ${informerCatchesUp}`).toHaveLength(1);
    }
  });
});
