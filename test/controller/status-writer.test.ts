// StatusWriter against a fake API server: a 409 retry must not write once leadership is gone.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { KubeApiError, type KubeClient } from '../../src/k8s/client.ts';
import type { ConfigEntry } from '../../src/config/kube-source.ts';
import { StatusWriter } from '../../src/controller/status-writer.ts';

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
    writer.start();
    await sleep(200);
    await writer.stop();
    expect(patches.length).toBe(1);
  });
});
