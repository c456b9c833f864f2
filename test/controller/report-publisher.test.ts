// The report Lease's write budget, on a manual clock against a scripted API server: what the
// leader decides on is written at once, count-only changes wait for the count interval, an
// unchanged report is only renewed (every third of its lease), and a clean stop deletes it.
// The same policy against the real API server, under endpoint churn: e2e/controller/replicas.test.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/k8s/client.ts';
import { ReportPublisher } from '../../src/runtime/controller/report-publisher.ts';
import type { ReplicaReport, Tally } from '../../src/runtime/controller/replica-report.ts';
import { startFakeApiServer, type FakeApiServer } from '../support/fake-apiserver.ts';
import { ManualClock } from '../support/manual-clock.ts';

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/cp/leases';
let api: FakeApiServer | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

interface Written {
  method: string;
  body?: { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: { leaseDurationSeconds: number; holderIdentity: string } };
}

async function setup() {
  api = await startFakeApiServer();
  const writes: Written[] = [];
  let rv = 0;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const body = text ? (JSON.parse(text) as Written['body'] & { metadata: Record<string, unknown> }) : undefined;
      writes.push({ method: req.method ?? '', ...(body ? { body } : {}) });
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ...body, metadata: { ...body?.metadata, resourceVersion: String(++rv) } }));
    });
  };
  api.route(LEASES, { list: handler });
  api.route(`${LEASES}/weft-replica-replica-a`, { list: handler });
  const clock = new ManualClock();
  let tally: Tally = { affected: 2, acked: 2, rejected: 0 };
  const report = (): ReplicaReport => ({
    replica: 'replica-a',
    configVersion: 'c1',
    modelVersion: 'm1',
    proxies: tally.affected,
    resources: new Map([['TrafficSplit shop/web', tally]]),
  });
  const publisher = new ReportPublisher({
    client: new KubeClient(api.kubeConfig),
    namespace: 'cp',
    progress: { identity: 'replica-a', report },
    leaseDurationMs: 3000,
    endpoint: { podIP: '10.244.0.7', monitoringPort: 15014, xdsPort: 15012 },
    ownerPod: { name: 'weft-0', uid: 'u-1' },
    countIntervalMs: 5000,
    passMs: 100, // renewals half a pass early: 950 ms after the last write
    clock,
  });
  return { writes, clock, publisher, set: (t: Tally) => (tally = t) };
}

describe('the report publisher', () => {
  it('writes what the leader decides on at once, counts at the count interval, and otherwise only renews', async () => {
    const { writes, clock, publisher, set } = await setup();
    await publisher.flush();
    expect(writes.map((w) => w.method)).toEqual(['POST']);
    const first = writes[0]!.body!;
    expect(first.metadata.labels).toEqual({ 'app.kubernetes.io/name': 'weft', 'app.kubernetes.io/component': 'weft-replica-report' });
    // owned by the replica's Pod: garbage-collected with it
    expect((first.metadata as { ownerReferences?: unknown }).ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: 'weft-0', uid: 'u-1' }]);
    expect(first.metadata.annotations).toMatchObject({
      'weft.dev/replica': 'replica-a',
      'weft.dev/pod-ip': '10.244.0.7',
      'weft.dev/monitoring-port': '15014',
      'weft.dev/xds-port': '15012',
    });
    expect(JSON.parse(first.metadata.annotations['weft.dev/report']!)).toMatchObject({
      v: 1,
      config: 'c1',
      proxies: 2,
      resources: { 'TrafficSplit shop/web': [2, 2, 0] },
    });
    expect(first.spec).toMatchObject({ holderIdentity: 'replica-a', leaseDurationSeconds: 3 });

    clock.advance(500);
    await publisher.flush();
    expect(writes).toHaveLength(1); // nothing changed, not yet due for renewal

    set({ affected: 3, acked: 3, rejected: 0 }); // a proxy connected and ACKed: counts only
    await publisher.flush();
    expect(writes).toHaveLength(1);
    set({ affected: 3, acked: 2, rejected: 1, first: { proxy: 'envoy-3', type: 'rds', message: 'bad' } }); // a rejection: at once
    await publisher.flush();
    expect(writes.map((w) => w.method)).toEqual(['POST', 'PUT']);
    expect(JSON.parse(writes[1]!.body!.metadata.annotations['weft.dev/report']!).resources['TrafficSplit shop/web']).toEqual([
      3,
      2,
      1,
      'envoy-3',
      'rds',
      'bad',
    ]);

    set({ affected: 4, acked: 3, rejected: 1, first: { proxy: 'envoy-3', type: 'rds', message: 'bad' } }); // counts only again
    clock.advance(949);
    await publisher.flush();
    expect(writes).toHaveLength(2);
    clock.advance(1); // a third of the lease (less half a pass) since the last write: renewed, carrying the new counts
    await publisher.flush();
    expect(writes).toHaveLength(3);
    for (let i = 0; i < 10; i++) {
      clock.advance(100);
      await publisher.flush();
    }
    expect(writes).toHaveLength(4); // one renewal a second, no more

    await publisher.stop();
    expect(writes.at(-1)?.method).toBe('DELETE');
  });
});
