// Which replica reports count: the leader's watcher over the report Leases (a namespaced,
// label-selected list+watch), with liveness judged on its own clock from the last renewal it
// saw. A Lease not renewed for its duration stops counting, a renewal brings it back, a
// deleted one stops at once; our own report and unreadable annotations are never peers.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeClient } from '../../src/k8s/client.ts';
import { encodeReport, type ReplicaReport } from '../../src/runtime/controller/replica-report.ts';
import { ReportWatcher } from '../../src/runtime/controller/report-watcher.ts';
import { listBody, sendEvent, startFakeApiServer, startWatch, type FakeApiServer } from '../support/fake-apiserver.ts';
import { ManualClock } from '../support/manual-clock.ts';

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/cp/leases';
let api: FakeApiServer | undefined;
let watcher: ReportWatcher | undefined;
afterEach(async () => {
  await watcher?.stop();
  await api?.close();
});

const report = (replica: string): ReplicaReport => ({ replica, configVersion: 'c1', modelVersion: 'm1', proxies: 1, resources: new Map() });
const lease = (replica: string, renewTime: string, rv: string, annotation: string | undefined = encodeReport(report(replica))) => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: `weft-replica-${replica}`, namespace: 'cp', resourceVersion: rv, annotations: annotation ? { 'weft.dev/report': annotation } : {} },
  spec: { holderIdentity: replica, leaseDurationSeconds: 3, renewTime },
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(10);
  expect(check()).toBe(true);
}

describe('the report watcher', () => {
  it('counts live peers only, on its own clock', async () => {
    api = await startFakeApiServer();
    let watch: ServerResponse | undefined;
    api.route(LEASES, {
      list: (_q, res) => res.end(listBody([lease('me', 't0', '1'), lease('b', 't0', '2'), lease('garbage', 't0', '3', '{"v":2}')], '10')),
      watch: (_q, res) => {
        startWatch(res);
        watch = res;
      },
    });
    const clock = new ManualClock();
    const changes: number[] = [];
    watcher = new ReportWatcher({
      client: new KubeClient(api.kubeConfig),
      namespace: 'cp',
      identity: 'me',
      clock,
      onChange: () => changes.push(clock.monotonic()),
    });
    watcher.start();
    await until(() => watcher!.synced && watch !== undefined);
    expect(api.requests[0]).toMatch(
      /^GET \/apis\/coordination\.k8s\.io\/v1\/namespaces\/cp\/leases\?.*labelSelector=app\.kubernetes\.io%2Fname%3Dweft%2Capp\.kubernetes\.io%2Fcomponent%3Dweft-replica-report/,
    );
    expect(watcher.peers().map((r) => r.replica)).toEqual(['b']);

    clock.advance(3001); // b has not renewed for its lease duration
    expect(watcher.peers()).toEqual([]);
    expect(watcher.status().find((s) => s.replica === 'b')).toMatchObject({ live: false, configVersion: 'c1' });

    sendEvent(watch!, 'MODIFIED', lease('b', 't1', '11')); // renewed
    await until(() => watcher!.peers().length === 1);
    clock.advance(2000);
    sendEvent(watch!, 'MODIFIED', lease('b', 't1', '12', encodeReport({ ...report('b'), proxies: 2 }))); // a new report, same renewTime
    await until(() => watcher!.peers()[0]?.proxies === 2);
    clock.advance(1001); // the renewal it saw is 3001 ms old: the report changed, the lease was not renewed
    expect(watcher.peers()).toEqual([]);

    sendEvent(watch!, 'MODIFIED', lease('b', 't2', '13'));
    await until(() => watcher!.peers().length === 1);
    sendEvent(watch!, 'DELETED', lease('b', 't2', '14')); // a clean shutdown
    await until(() => watcher!.peers().length === 0);
    expect(changes.length).toBeGreaterThanOrEqual(4);
  });
});
