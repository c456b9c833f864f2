// Programmed across controller replicas, against the real API server with real proxies:
// two `weft controller` processes (chart RBAC, API-server-issued tokens), a real Envoy on
// each, and a proxyless grpc-js-xds client on the non-leader that calls only `greeter`.
//  - Programmed counts the proxies of both replicas (the non-leader's through its report
//    Lease), and a TrafficSplit of `front` leaves the proxyless client out of its count;
//  - an Envoy on the non-leader that rejects a split (its runtime caps RE2 programs below the
//    default, so a regex the model accepts is NACKed for real) makes Programmed
//    False/Rejected with Envoy's own message;
//  - 100 simulated Pods churning endpoints cause no status writes and no report rewrites
//    (only renewals): the figures are printed;
//  - SIGKILL the non-leader: its proxies stop counting once its report Lease expires.
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpMethod } from '@kubernetes/client-node';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, cond, endpointSlice, hasCond, retryPolicy, service, trafficSplit, type KubeObject } from './support/api.ts';
import { forbiddenLines, startController, type ControllerProcess } from './support/controller-process.ts';
import { tempNamespace, uniqueName } from '../support/kube.ts';
import { controllerIdentity, installCrds, SCOPE_LABEL, sharedCluster, type ClusterEnv } from './support/kube.ts';
import { controllerRbacYaml } from './support/rbac.ts';
import { renderBootstrap } from '../../xds/bootstrap/bootstrap.ts';
import { startEnvoy, type EnvoyHandle } from '../../test/support/envoy.ts';
import { freePort } from '../../test/support/free-port.ts';
import { runProxylessClient } from '../../test/proxyless/support.ts';
import { decodeReport } from '../../src/runtime/controller/replica-report.ts';

const REPORT_LEASE_MS = 3000;
const args = (scope: string): string[] => [
  ...['--lease-duration', '4s', '--renew-deadline', '3s', '--retry-period', '500ms', '--status-resync', '300ms'],
  ...['--report-lease-duration', `${REPORT_LEASE_MS}ms`, '--discovery-selector', `${SCOPE_LABEL}=${scope}`],
];
/** Envoy rejects RE2 programs over this size (its default is 100; the model checks against 100). */
const STRICT_RE2 = 16;
const REGEX = '(alpha|beta|gamma)-[a-z]+'; // RE2 program size 23

let env: ClusterEnv;
let api: Api;
let kubeconfig: string;
let cpNs: string;
let app: string;
let leader: ControllerProcess;
let follower: ControllerProcess;
const scope = uniqueName('weft-rep');
const cleanups: (() => Promise<unknown>)[] = [];
const envoys: EnvoyHandle[] = [];

async function envoyOn(ctl: ControllerProcess, nodeId: string, runtime?: Record<string, number>): Promise<EnvoyHandle> {
  const doc = parseYaml(
    renderBootstrap({ nodeId, namespace: app, service: nodeId, xdsAddress: `127.0.0.1:${ctl.xdsPort}`, outboundPort: await freePort(), adminPort: 0 }).yaml,
  ) as Record<string, unknown>;
  if (runtime) doc.layered_runtime = { layers: [{ name: 'static', static_layer: runtime }] };
  const e = await startEnvoy({ bootstrapYaml: stringifyYaml(doc, { lineWidth: 0 }) });
  envoys.push(e);
  return e;
}

const leaderOf = async (c: ControllerProcess): Promise<boolean> => (await c.json<{ leader: boolean }>('/debug/leader').catch(() => undefined))?.leader === true;

async function programmed(kind: 'TrafficSplit' | 'RetryPolicy', name: string, check: (message: string, o: KubeObject) => boolean, timeoutMs = 30_000) {
  const o = await api.waitFor(
    kind,
    app,
    name,
    (x) => x.status?.observedGeneration === x.metadata.generation && check(cond(x, 'Programmed')?.message ?? '', x),
    timeoutMs,
  );
  return cond(o, 'Programmed')!;
}

const counter = (metrics: string, name: string, match: (labels: string) => boolean): number =>
  metrics
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && match(l.slice(0, l.indexOf('}'))))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);

beforeAll(async () => {
  env = await sharedCluster();
  await installCrds(env);
  api = new Api(env.kubeconfig);
  cpNs = await tempNamespace('weft-rep', { [SCOPE_LABEL]: scope });
  app = await tempNamespace('shop', { [SCOPE_LABEL]: scope });
  const identity = await controllerIdentity(env, cpNs, (await controllerRbacYaml(env, cpNs)).yaml);
  cleanups.push(identity.cleanup);
  kubeconfig = identity.kubeconfig;
  for (const s of ['front', 'front-v1', 'front-v2']) await api.create(service(app, s));
  const greeter = service(app, 'greeter', 50051, 50051);
  (greeter.spec as { ports: { name: string }[] }).ports[0]!.name = 'grpc';
  await api.create(greeter);
  await api.create(trafficSplit(app, 'front', 'front', { 'front-v1': 80, 'front-v2': 20 }));
  await api.create(retryPolicy(app, 'greeter', 'greeter'));

  const [a, b] = await Promise.all(['replica-a', 'replica-b'].map((id) => startController({ kubeconfig, namespace: cpNs, identity: id, args: args(scope) })));
  for (let i = 0; !leader && i < 300; i++) {
    if (await leaderOf(a!)) [leader, follower] = [a!, b!];
    else if (await leaderOf(b!)) [leader, follower] = [b!, a!];
    else await sleep(50);
  }
  if (!leader) throw new Error('no leader elected');
  await envoyOn(leader, 'envoy-on-leader');
  await envoyOn(follower, 'envoy-on-follower');
  // Calls only greeter: it subscribes to greeter's listener and routes, nothing of front.
  const client = runProxylessClient({
    xdsAddress: `127.0.0.1:${follower.xdsPort}`,
    nodeId: 'grpc-greeter-client',
    args: ['--target', `xds:///greeter.${app}:50051`, '--namespace', app, '--calls', '100000', '--rate', '1', '--concurrency', '1', '--deadline-ms', '600000'],
  });
  client.summary.catch(() => {}); // it never finishes: killed with the test file
}, 180_000);

afterAll(async () => {
  if (process.env.WEFT_DEBUG_DIR) {
    const { writeFileSync } = await import('node:fs');
    for (const c of [leader, follower]) if (c) writeFileSync(`${process.env.WEFT_DEBUG_DIR}/${c.identity}.log`, c.output());
  }
  await Promise.all(envoys.map((e) => e.stop()));
  await Promise.all([leader?.stop(), follower?.stop()]);
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('Programmed across two controller replicas', () => {
  it('counts the proxies of both replicas, and a split of front leaves out the client that calls only greeter', async () => {
    expect((await programmed('TrafficSplit', 'front', (m) => m === '2/2 proxies acknowledged the current configuration')).status).toBe('True');
    expect((await programmed('RetryPolicy', 'greeter', (m) => m === '3/3 proxies acknowledged the current configuration')).status).toBe('True');

    // The non-leader's report Lease: what other tools read to find it.
    const lease = (await api.get('Lease', cpNs, `weft-replica-${follower.identity}`)) as KubeObject & {
      metadata: { annotations?: Record<string, string> };
      spec: { holderIdentity: string; leaseDurationSeconds: number };
    };
    expect(lease.metadata.labels).toMatchObject({ 'app.kubernetes.io/component': 'weft-replica-report', 'app.kubernetes.io/name': 'weft' });
    expect(lease.spec).toMatchObject({ holderIdentity: follower.identity, leaseDurationSeconds: REPORT_LEASE_MS / 1000 });
    const annotations = lease.metadata.annotations ?? {};
    expect(annotations['weft.dev/monitoring-port']).toBe(new URL(follower.monitoringUrl).port);
    const report = decodeReport(annotations['weft.dev/report']);
    expect(report?.proxies).toBe(2);
    expect(report?.resources.get(`RetryPolicy ${app}/greeter`)).toEqual({ affected: 2, acked: 2, rejected: 0 });
    expect(report?.resources.get(`TrafficSplit ${app}/front`)).toEqual({ affected: 1, acked: 1, rejected: 0 });
    // Every replica's view of the reports (what weftctl may read to find the replicas).
    const view = await leader.json<{ identity: string; reports: { replica: string; live: boolean; monitoringPort?: string; proxies?: number }[] }>(
      '/debug/replicas',
    );
    expect(view.reports.map((r) => [r.replica, r.live, r.proxies]).sort()).toEqual(
      [
        [leader.identity, true, 1],
        [follower.identity, true, 2],
      ].sort(),
    );
    console.log(`report Lease of ${follower.identity}: ${annotations['weft.dev/report']?.length} bytes of report: ${annotations['weft.dev/report']}`);
  });

  it('says Rejected with Envoy’s message when an Envoy on the non-leader NACKs a split', async () => {
    await envoyOn(follower, 'envoy-strict-re2', { 're2.max_program_size.error_level': STRICT_RE2 });
    await programmed('TrafficSplit', 'front', (m) => m.startsWith('3/3 '), 40_000);
    await api.patch('TrafficSplit', app, 'front', {
      spec: {
        service: 'front',
        backends: [
          { service: 'front-v1', weight: 80 },
          { service: 'front-v2', weight: 20 },
        ],
        matches: [{ headers: [{ name: 'x-variant', type: 'RegularExpression', value: REGEX }] }],
      },
    });
    // The other Envoy on the non-leader may not have ACKed yet when the rejection is reported (1/3 or 2/3).
    const c = await programmed('TrafficSplit', 'front', (_m, o) => hasCond(o, 'Programmed', 'False', 'Rejected'));
    console.log(`Programmed with an Envoy on the non-leader rejecting: ${c.status}/${c.reason}: ${c.message}`);
    expect(c.message).toMatch(
      new RegExp(`^[12]/3 proxies acknowledged the current configuration; proxy envoy-strict-re2 on replica ${follower.identity} rejected rds: `),
    );
    expect(c.message).toMatch(/RE2 program size of \d+ > max program size of 16/);

    // The split without the regex: every Envoy takes it.
    await api.patch('TrafficSplit', app, 'front', { spec: { matches: null } });
    await programmed('TrafficSplit', 'front', (m, o) => hasCond(o, 'Programmed', 'True') && m.startsWith('3/3 '));
    await envoys.pop()!.stop();
    await programmed('TrafficSplit', 'front', (m) => m.startsWith('2/2 '), 30_000);
  }, 120_000);

  it('writes no status and rewrites no report while 100 Pods churn their endpoints', async () => {
    const pods = Array.from({ length: 100 }, (_, i) => `10.244.${1 + Math.floor(i / 10)}.${10 + (i % 10)}`);
    for (let s = 0; s < 10; s++) await api.create(service(app, `churn-${s}`));
    for (let s = 0; s < 10; s++) await api.create(endpointSlice(app, `churn-${s}`, pods.slice(s * 10, s * 10 + 10)));
    await sleep(12_000); // past the status writer's hold on count-only changes: nothing left to write
    const before = await Promise.all([leader.metrics(), follower.metrics()]);
    const t0 = performance.now();
    let changes = 0;
    let gen = 0;
    // Every 500 ms one Pod of each of two Services restarts: it turns not ready, then comes back with a new IP.
    while (performance.now() - t0 < 30_000) {
      gen++;
      for (const s of [gen % 10, (gen + 5) % 10]) {
        const ips = pods
          .slice(s * 10, s * 10 + 10)
          .map((ip, i) => (i === gen % 10 ? ip.replace(/\.(\d+)$/, (_m, d) => `.${100 + ((Number(d) + gen) % 150)}`) : ip));
        await api.patch('EndpointSlice', app, `churn-${s}-e2e`, {
          endpoints: ips.map((a, i) => ({ addresses: [a], conditions: { ready: i !== (gen + 3) % 10 } })),
        });
        changes++;
      }
      await sleep(500);
    }
    const minutes = (performance.now() - t0) / 60_000;
    const after = await Promise.all([leader.metrics(), follower.metrics()]);
    const delta = (name: string, match: (l: string) => boolean): number[] => after.map((m, i) => counter(m, name, match) - counter(before[i]!, name, match));
    const status = delta('weft_status_writes_total', (l) => l.includes('result="ok"'));
    const content = delta('weft_replica_report_writes_total', (l) => l.includes('result="ok"') && !l.includes('why="renew"'));
    const renewals = delta('weft_replica_report_writes_total', (l) => l.includes('why="renew"') && l.includes('result="ok"'));
    const pushes = delta('weft_xds_pushes_total', () => true);
    const perMin = (n: number): string => (n / minutes).toFixed(1);
    console.log(
      `100 Pods churning (${changes} EndpointSlice updates in ${(minutes * 60).toFixed(0)} s, ${perMin(changes)}/min; xDS pushes leader ${pushes[0]}, follower ${pushes[1]}): ` +
        `status writes ${perMin(status[0]! + status[1]!)}/min; report writes: content ${perMin(content[0]! + content[1]!)}/min, ` +
        `lease renewals ${perMin(renewals[0]! + renewals[1]!)}/min for 2 replicas at a ${REPORT_LEASE_MS / 1000} s report lease (one per lease/3: 12/min per replica at the 15 s default)`,
    );
    expect(pushes[0]).toBeGreaterThan(0);
    expect(status[0]! + status[1]!).toBeLessThanOrEqual(2);
    expect(content[0]! + content[1]!).toBeLessThanOrEqual(2);
    expect(renewals[0]! + renewals[1]!).toBeLessThanOrEqual(Math.ceil((minutes * 60_000) / (REPORT_LEASE_MS / 3)) * 2 + 4);
  }, 90_000);

  it('stops counting the non-leader’s proxies once its report lease expires after a SIGKILL', async () => {
    await programmed('TrafficSplit', 'front', (m) => m.startsWith('2/2 '));
    await follower.kill();
    const t0 = performance.now();
    await sleep(REPORT_LEASE_MS / 3);
    // Within the lease its last report still counts.
    expect(cond(await api.get('TrafficSplit', app, 'front'), 'Programmed')?.message).toMatch(/^2\/2 /);
    await programmed('TrafficSplit', 'front', (m) => m === '1/1 proxies acknowledged the current configuration', 30_000);
    const dropped = performance.now() - t0;
    console.log(`non-leader SIGKILLed: its proxies left the count after ${dropped.toFixed(0)} ms (report lease ${REPORT_LEASE_MS} ms)`);
    expect(dropped).toBeGreaterThanOrEqual(REPORT_LEASE_MS / 2); // the last renewal it saw was at most a renewal period (lease/3) before the kill
    await programmed('RetryPolicy', 'greeter', (m) => m === '1/1 proxies acknowledged the current configuration');
    expect(forbiddenLines(leader.output())).toEqual([]);

    // A clean shutdown deletes the replica's report at once; the killed one's stays (the leader collects it later).
    expect(await leader.stop()).toBe(0);
    const left = await api.client.request<{ items: { metadata: { name: string } }[] }>(
      HttpMethod.GET,
      `/apis/coordination.k8s.io/v1/namespaces/${cpNs}/leases`,
      {
        query: { labelSelector: 'app.kubernetes.io/component=weft-replica-report' },
      },
    );
    expect(left.items.map((l) => l.metadata.name)).toEqual([`weft-replica-${follower.identity}`]);
  }, 60_000);
});
