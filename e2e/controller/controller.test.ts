// `weft controller` against the real kube-apiserver of the harness, as the chart's
// ServiceAccount (a token the API server issued, never admin): CR status, a broken
// reference that does not take the mesh down, API objects reaching a real ADS client, no
// write storms, and not a single 403.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, clusterName, cond, endpointSlice, hasCond, peerAuth, retryPolicy, service, trafficSplit, type KubeObject } from './support/api.ts';
import { connectAds, type AdsWatcher } from './support/ads-watcher.ts';
import { forbiddenLines, forbiddenSeries, startController, type ControllerProcess } from './support/controller-process.ts';
import { kubectl, tempNamespace, uniqueName } from '../support/kube.ts';
import { controllerIdentity, installCrds, SCOPE_LABEL, sharedCluster, type ClusterEnv } from './support/kube.ts';
import { controllerRbacYaml } from './support/rbac.ts';

let env: ClusterEnv;
let api: Api;
let ctl: ControllerProcess;
let ads: AdsWatcher;
let cpNs: string;
let app: string;
const scope = uniqueName('weft-ctl');
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  env = await sharedCluster();
  await installCrds(env);
  api = new Api(env.kubeconfig);
  // A discovery selector keeps this suite's controllers to its own namespaces (others share the cluster).
  cpNs = await tempNamespace('weft-ctl', { [SCOPE_LABEL]: scope });
  app = await tempNamespace('shop', { [SCOPE_LABEL]: scope });
  const rbac = await controllerRbacYaml(env, cpNs);
  const identity = await controllerIdentity(env, cpNs, rbac.yaml);
  cleanups.push(identity.cleanup);

  // Some of the mesh exists before the controller starts (initial list), the rest is added later (watch).
  for (const name of ['web', 'checkout', 'checkout-v1', 'checkout-v2', 'api']) await api.create(service(app, name));
  await api.create(endpointSlice(app, 'web', ['10.244.0.10']));
  await api.create(trafficSplit(app, 'checkout', 'checkout', { 'checkout-v1': 90, 'checkout-v2': 10 }));
  await api.create(retryPolicy(app, 'web', 'web'));

  ctl = await startController({
    kubeconfig: identity.kubeconfig,
    namespace: cpNs,
    identity: 'ctl-0',
    args: [
      '--lease-duration',
      '4s',
      '--renew-deadline',
      '3s',
      '--retry-period',
      '500ms',
      '--status-resync',
      '300ms',
      '--discovery-selector',
      `${SCOPE_LABEL}=${scope}`,
    ],
  });
  ads = connectAds(ctl.xdsPort, { namespace: app, id: 'e2e-sidecar' });
  console.log(`controller RBAC from ${rbac.fromChart ? 'the Helm chart' : 'the built-in equivalent (chart not found)'}`);
});

afterAll(async () => {
  ads?.close();
  await ctl?.stop();
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('weft controller against a real API server', () => {
  it('serves the mesh it listed at startup to a connected ADS client', async () => {
    await ads.waitFor(() => ['web', 'checkout', 'checkout-v1', 'checkout-v2', 'api'].every((s) => ads.clusters().has(clusterName(app, s))));
    await ads.waitFor(() => ads.endpoints(clusterName(app, 'web')).includes('10.244.0.10:8080'));
  });

  it('brings valid resources to Accepted=True, ResolvedRefs=True and, once the proxy ACKed, Programmed=True', async () => {
    await api.create(peerAuth(app, 'default', 'STRICT')); // added while running: reaches the controller by watch
    for (const [kind, name] of [
      ['TrafficSplit', 'checkout'],
      ['RetryPolicy', 'web'],
      ['PeerAuth', 'default'],
    ] as const) {
      const o = await api.waitFor(
        kind,
        app,
        name,
        (x) => hasCond(x, 'Accepted', 'True') && hasCond(x, 'ResolvedRefs', 'True') && hasCond(x, 'Programmed', 'True'),
      );
      expect(cond(o, 'Programmed')?.message).toBe('1/1 proxies acknowledged the current configuration');
      for (const c of o.status?.conditions ?? []) expect(c.observedGeneration).toBe(o.metadata.generation);
    }
    // The printer columns the API server computes read as text, not raw JSON.
    const wide = (await kubectl(['get', 'ts,rp,pa', '-n', app, '-o', 'wide'])).stdout;
    expect(wide).not.toMatch(/[[{]"/);
    expect(wide).toMatch(/checkout-v1 90%, checkout-v2 10%/);
    expect(wide).toMatch(/RETRY-ON.*\n.*  5xx, connect-failure  /);
    expect(wide).toMatch(/all workloads/);
  });

  it('gives a TrafficSplit naming a missing Service ResolvedRefs=False with a clear message, and the rest keeps serving', async () => {
    await api.create(trafficSplit(app, 'api-canary', 'api', { api: 50, 'api-v9': 50 }));
    const o = await api.waitFor('TrafficSplit', app, 'api-canary', (x) => hasCond(x, 'ResolvedRefs', 'False'));
    expect(cond(o, 'ResolvedRefs')).toMatchObject({ reason: 'BackendNotFound', message: expect.stringContaining(`Service ${app}/api-v9 not found`) });
    expect(cond(o, 'Programmed')).toMatchObject({ status: 'False', reason: 'RefsNotResolved' });
    // The mesh still serves everything else, and keeps taking changes.
    await api.create(service(app, 'after-broken'));
    await ads.waitFor(() => ads.clusters().has(clusterName(app, 'after-broken')) && ads.clusters().has(clusterName(app, 'web')));
    // Creating the missing backend resolves it.
    await api.create(service(app, 'api-v9'));
    await api.waitFor('TrafficSplit', app, 'api-canary', (x) => hasCond(x, 'ResolvedRefs', 'True') && hasCond(x, 'Programmed', 'True'));
  });

  it('does not accept a TrafficSplit whose root Service is missing, and says weights 90/20 come to 82/18 once it exists', async () => {
    await api.create(trafficSplit(app, 'early', 'soon', { 'checkout-v1': 90, 'checkout-v2': 20 }));
    const o = await api.waitFor('TrafficSplit', app, 'early', (x) => hasCond(x, 'Accepted', 'False'));
    expect(cond(o, 'Accepted')).toMatchObject({ reason: 'ServiceNotFound', message: expect.stringContaining(`Service ${app}/soon not found`) });
    expect(cond(o, 'Programmed')).toMatchObject({ status: 'False', reason: 'NotAccepted' });
    await api.create(service(app, 'soon'));
    // Programmed too, so no status write of this test falls into a later test's quiet window.
    const ok = await api.waitFor('TrafficSplit', app, 'early', (x) => hasCond(x, 'Accepted', 'True') && hasCond(x, 'Programmed', 'True'));
    expect(cond(ok, 'Accepted')?.message).toContain('weights 90/20 sum to 110, not 100, and are normalised to 82/18 percent');
  });

  it('propagates Services and EndpointSlices created through the API to the ADS client', async () => {
    const name = clusterName(app, 'late');
    let t0 = performance.now();
    await api.create(service(app, 'late'));
    await api.create(endpointSlice(app, 'late', ['10.244.0.77']));
    await ads.waitFor(() => ads.clusters().has(name) && ads.endpoints(name).includes('10.244.0.77:8080'));
    const created = performance.now() - t0;

    t0 = performance.now();
    await api.patch('EndpointSlice', app, 'late-e2e', {
      endpoints: ['10.244.0.77', '10.244.0.78'].map((a) => ({ addresses: [a], conditions: { ready: true } })),
    });
    await ads.waitFor(() => ads.endpoints(name).join(',') === '10.244.0.77:8080,10.244.0.78:8080');
    const scaled = performance.now() - t0;

    t0 = performance.now();
    await api.delete('Service', app, 'late');
    await ads.waitFor(() => !ads.clusters().has(name));
    const deleted = performance.now() - t0;
    console.log(
      `API → xDS propagation: new Service+EndpointSlice ${created.toFixed(0)} ms, endpoint added ${scaled.toFixed(0)} ms, Service deleted ${deleted.toFixed(0)} ms`,
    );
    expect(created).toBeLessThan(5000);
  });

  it('writes status only when it changes, keeping lastTransitionTime when a condition keeps its status', async () => {
    const before = await api.waitFor('RetryPolicy', app, 'web', (x) => hasCond(x, 'Accepted', 'True') && hasCond(x, 'Programmed', 'True'));
    const writes = async (): Promise<number> =>
      (await ctl.metrics())
        .split('\n')
        .filter((l) => l.startsWith('weft_status_writes_total{') && l.includes('result="ok"'))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    const w0 = await writes();
    const log0 = ctl.output().length;
    await sleep(2000); // ~6 resync passes with nothing changing
    const during = ctl
      .output()
      .slice(log0)
      .split('\n')
      .filter((l) => l.includes('"status written"'));
    expect(during).toEqual([]);
    expect(await writes()).toBe(w0);

    await sleep(1100); // lastTransitionTime has a one-second resolution
    await api.patch('RetryPolicy', app, 'web', { spec: { attempts: 4 } });
    const after = await api.waitFor(
      'RetryPolicy',
      app,
      'web',
      (x) => x.metadata.generation === 2 && hasCond(x, 'Accepted', 'True') && hasCond(x, 'Programmed', 'True'),
    );
    expect(cond(after, 'Accepted')?.lastTransitionTime).toBe(cond(before, 'Accepted')?.lastTransitionTime);
    expect(cond(after, 'Accepted')?.observedGeneration).toBe(2);
  });

  it('was never answered 403 by the API server', async () => {
    const metrics = await ctl.metrics();
    expect(metrics).toContain('weft_kube_api_requests_total{'); // the counter is there, so "no 403 series" means something
    expect(forbiddenSeries(metrics)).toEqual([]);
    expect(forbiddenLines(ctl.output())).toEqual([]);
    // and the pipeline metrics an operator graphs are exported
    for (const m of [
      'weft_controller_reconcile_total',
      'weft_controller_reconcile_duration_seconds',
      'weft_informer_restarts_total',
      'weft_informer_last_event_age_seconds',
      'weft_xds_pushes_total',
      'weft_xds_acks_total',
      'weft_xds_connected_proxies',
      'weft_leader_is_leader',
    ]) {
      expect(metrics).toContain(m);
    }
    const ready = await fetch(`${ctl.monitoringUrl}/readyz`);
    expect(ready.status).toBe(200);
  });
});

export type { KubeObject };
