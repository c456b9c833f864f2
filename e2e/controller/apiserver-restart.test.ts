// The API server goes away under a running `weft controller` and comes back: the controller
// is not restarted, keeps serving its last state meanwhile, and then applies what changed
// while its API server was down. Runs on a PRIVATE harness instance (its own etcd,
// kube-apiserver and ports under a temporary WEFT_CLUSTER_DIR), never the shared one. The
// changes are made through a second kube-apiserver on the same etcd, so they really happen
// while the controller's API server is stopped.
import { mkdtempSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/free-port.ts';
import { Api, clusterName, endpointSlice, hasCond, namespace, service, trafficSplit } from './support/api.ts';
import { connectAds, type AdsWatcher } from './support/ads-watcher.ts';
import { apiserverPid, commandLine, restartApiserver, secondApiserverArgs, spawnApiserver, stopProcessGroup, waitApiserver } from './support/apiserver.ts';
import { forbiddenLines, startController, type ControllerProcess } from './support/controller-process.ts';
import { clusterDown, controllerIdentity, installCrds, privateClusterUp, type ClusterEnv } from './support/kube.ts';
import { controllerRbacYaml } from './support/rbac.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-ctl-restart-'));
const cpNs = 'weft-system';
const app = 'shop';
let env: ClusterEnv;
let api: Api;
let ctl: ControllerProcess;
let ads: AdsWatcher;
let secondPid: number | undefined;
let identity: { kubeconfig: string; cleanup: () => Promise<void> } | undefined;

beforeAll(async () => {
  const t0 = performance.now();
  env = await privateClusterUp(dir);
  console.log(`private cluster up in ${((performance.now() - t0) / 1000).toFixed(1)} s (${env.server})`);
  await installCrds(env);
  api = new Api(env.kubeconfig);
  await api.create(namespace(cpNs));
  await api.create(namespace(app));
  identity = await controllerIdentity(env, cpNs, (await controllerRbacYaml(env, cpNs)).yaml);
  await api.create(service(app, 'before'));
  await api.create(endpointSlice(app, 'before', ['10.244.0.20']));
  ctl = await startController({
    kubeconfig: identity.kubeconfig,
    namespace: cpNs,
    identity: 'restart-0',
    // short backoff cap so recovery is quick; the default is 30 s
    args: ['--lease-duration', '4s', '--renew-deadline', '3s', '--retry-period', '500ms', '--informer-max-backoff', '2s', '--status-resync', '300ms'],
  });
  ads = connectAds(ctl.xdsPort, { namespace: app });
  await ads.waitFor(() => ads.endpoints(clusterName(app, 'before')).includes('10.244.0.20:8080'));
}, 170_000);

afterAll(async () => {
  ads?.close();
  await ctl?.stop();
  await identity?.cleanup();
  if (secondPid) await stopProcessGroup(secondPid, 'SIGKILL');
  await clusterDown(dir).catch((err: unknown) => console.error(`private cluster teardown failed: ${(err as Error).message}`));
});

describe('API server restart under a running controller', () => {
  it('recovers without a restart and applies the changes made while its API server was down', async () => {
    const pid = ctl.child.pid;
    const argv = commandLine(apiserverPid(dir));

    // A second API server on the same etcd: the way to change the cluster while the first is down.
    const port = await freePort();
    secondPid = spawnApiserver(secondApiserverArgs(argv, port, join(dir, 'apiserver-certs-2')), join(dir, 'logs/kube-apiserver-2.log'));
    const second = `https://127.0.0.1:${port}`;
    await waitApiserver(env.kubeconfig, second);
    const api2 = new Api(env.kubeconfig, second);

    // SIGKILL, a crash: a graceful kube-apiserver stop waits ~60 s for long-running requests here.
    const downAt = performance.now();
    await stopProcessGroup(apiserverPid(dir), 'SIGKILL');

    // While it is down: add a service with endpoints, delete one, add a TrafficSplit.
    await api2.create(service(app, 'during'));
    await api2.create(endpointSlice(app, 'during', ['10.244.0.21']));
    await api2.delete('Service', app, 'before');
    for (const s of ['during-v1', 'during-v2']) await api2.create(service(app, s));
    await api2.create(trafficSplit(app, 'during', 'during', { 'during-v1': 50, 'during-v2': 50 }));

    // Stay down a while: the informers fail, back off and retry several times.
    await sleep(3000);

    // The controller keeps serving its last state (nothing changed for the proxy) ...
    expect(ads.clusters().has(clusterName(app, 'before'))).toBe(true);
    expect(ads.clusters().has(clusterName(app, 'during'))).toBe(false);
    const health = await fetch(`${ctl.monitoringUrl}/healthz`);
    expect(health.status).toBe(200);

    // ... and its informers are failing and retrying, not dead.
    const informers = await ctl.json<{ resource: string; watching: boolean; lastError?: { statusCode: number } }[]>('/debug/informers');
    expect(informers.some((i) => !i.watching)).toBe(true);

    const restartedAt = performance.now();
    const restartedWall = Date.now();
    restartApiserver(dir, argv);
    await waitApiserver(env.kubeconfig, env.server);
    const upMs = performance.now() - restartedAt;
    const readyWall = Date.now();

    await ads.waitFor(() => !ads.clusters().has(clusterName(app, 'before')) && ads.endpoints(clusterName(app, 'during')).includes('10.244.0.21:8080'), 20_000);
    const recovered = performance.now() - restartedAt;
    console.log(
      `API server down ${((restartedAt - downAt) / 1000).toFixed(1)} s, back up in ${(upMs / 1000).toFixed(1)} s; controller applied the changes ${(recovered / 1000).toFixed(1)} s after the restart began`,
    );

    // The status writer recovered too (the lease was renewed), and the split made while down is accepted.
    await api.waitFor('TrafficSplit', app, 'during', (o) => hasCond(o, 'Accepted', 'True') && hasCond(o, 'Programmed', 'True'), 20_000);

    expect(ctl.child.pid).toBe(pid);
    expect(ctl.child.exitCode).toBeNull();
    const metrics = await ctl.metrics();
    const restarts = metrics.split('\n').filter((l) => l.startsWith('weft_informer_restarts_total{') && !l.endsWith(' 0'));
    expect(restarts.length).toBeGreaterThan(0);
    // A kube-apiserver that is starting answers 403 until its RBAC authorizer has synced (before
    // /readyz is ok); the controller retries through it. A 403 at any other time is a failure.
    const forbidden = forbiddenLines(ctl.output());
    const outside = forbidden.filter((l) => {
      const t = (JSON.parse(l) as { time: number }).time;
      return t < restartedWall || t > readyWall;
    });
    console.log(`403s while the restarted API server was not ready yet (authorizer warming up): ${forbidden.length}; outside that window: ${outside.length}`);
    expect(outside).toEqual([]);
    const ready = await fetch(`${ctl.monitoringUrl}/readyz`);
    expect(ready.status).toBe(200);
  }, 120_000);
});
