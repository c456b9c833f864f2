// Two `weft controller` replicas on one Lease: only the leader writes status (checked in
// managedFields, where each replica's field manager carries its identity); SIGKILL the
// leader and the other takes over once the lease expires; SIGTERM a leader and it hands
// the lease over at once.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, hasCond, service, trafficSplit, type KubeObject } from './support/api.ts';
import { forbiddenLines, startController, type ControllerProcess } from './support/controller-process.ts';
import { tempNamespace, uniqueName } from '../support/kube.ts';
import { controllerIdentity, installCrds, SCOPE_LABEL, sharedCluster, type ClusterEnv } from './support/kube.ts';
import { controllerRbacYaml } from './support/rbac.ts';

const LEASE_MS = 4000;
const RETRY_MS = 500;
const leaseArgs = ['--lease-duration', `${LEASE_MS}ms`, '--renew-deadline', '3s', '--retry-period', `${RETRY_MS}ms`, '--status-resync', '300ms'];

let env: ClusterEnv;
let api: Api;
let kubeconfig: string;
let cpNs: string;
let app: string;
const scope = uniqueName('weft-le');
const cleanups: (() => Promise<unknown>)[] = [];
const replicas: ControllerProcess[] = [];

interface LeaderView {
  identity: string;
  leader: boolean;
  holder?: string;
}

const leaderOf = async (c: ControllerProcess): Promise<LeaderView | undefined> => c.json<LeaderView>('/debug/leader').catch(() => undefined);

async function waitLeader(candidates: readonly ControllerProcess[], timeoutMs = 15_000): Promise<ControllerProcess> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const c of candidates) if ((await leaderOf(c))?.leader) return c;
    if (Date.now() > deadline) throw new Error('no leader elected');
    await sleep(25);
  }
}

/** Field managers of THIS suite's replicas that have written the status subresource. */
function statusManagers(o: KubeObject): string[] {
  const ours = new Set(replicas.map((r) => `weft-controller/${r.identity}`));
  return (o.metadata.managedFields ?? []).filter((f) => f.subresource === 'status' && ours.has(f.manager)).map((f) => f.manager);
}

async function start(identity: string): Promise<ControllerProcess> {
  const c = await startController({ kubeconfig, namespace: cpNs, identity, args: [...leaseArgs, '--discovery-selector', `${SCOPE_LABEL}=${scope}`] });
  replicas.push(c);
  return c;
}

beforeAll(async () => {
  env = await sharedCluster();
  await installCrds(env);
  api = new Api(env.kubeconfig);
  // A discovery selector keeps this suite's controllers to its own namespaces (others share the cluster).
  cpNs = await tempNamespace('weft-le', { [SCOPE_LABEL]: scope });
  app = await tempNamespace('shop', { [SCOPE_LABEL]: scope });
  const identity = await controllerIdentity(env, cpNs, (await controllerRbacYaml(env, cpNs)).yaml);
  cleanups.push(identity.cleanup);
  kubeconfig = identity.kubeconfig;
  for (const s of ['front', 'front-v1', 'front-v2']) await api.create(service(app, s));
  await api.create(trafficSplit(app, 'front', 'front', { 'front-v1': 80, 'front-v2': 20 }));
});

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('leader election between two controller replicas', () => {
  let leader: ControllerProcess;
  let follower: ControllerProcess;

  it('elects exactly one leader, and only the leader writes status', async () => {
    const [a, b] = await Promise.all([start('replica-a'), start('replica-b')]);
    leader = await waitLeader([a!, b!]);
    follower = leader === a ? b! : a!;
    await sleep(RETRY_MS * 3);
    expect((await leaderOf(follower))?.leader).toBe(false);
    expect((await leaderOf(follower))?.holder).toBe(leader.identity);
    const lease = await api.get('Lease', cpNs, 'weft-controller');
    expect(lease.spec).toMatchObject({ holderIdentity: leader.identity, leaseDurationSeconds: LEASE_MS / 1000 });

    await api.waitFor('TrafficSplit', app, 'front', (o) => hasCond(o, 'Accepted', 'True'));
    await api.patch('TrafficSplit', app, 'front', {
      spec: {
        backends: [
          { service: 'front-v1', weight: 50 },
          { service: 'front-v2', weight: 50 },
        ],
      },
    });
    const o = await api.waitFor('TrafficSplit', app, 'front', (x) => x.metadata.generation === 2 && hasCond(x, 'Accepted', 'True'));
    expect(statusManagers(o)).toEqual([`weft-controller/${leader.identity}`]);
    expect(await follower.metrics()).not.toMatch(/^weft_status_writes_total\{[^}]*result="ok"[^}]*\} [1-9]/m);
  });

  it('fails over after the leader is SIGKILLed, within the lease duration (plus one retry period of observation)', async () => {
    const t0 = performance.now();
    await leader.kill();
    await waitLeader([follower], LEASE_MS * 3);
    const failover = performance.now() - t0;
    console.log(`leader failover after SIGKILL: ${failover.toFixed(0)} ms (leaseDuration ${LEASE_MS} ms, retryPeriod ${RETRY_MS} ms)`);
    expect(failover).toBeLessThanOrEqual(LEASE_MS + RETRY_MS + 250);

    // The new leader writes status from now on.
    await api.patch('TrafficSplit', app, 'front', {
      spec: {
        backends: [
          { service: 'front-v1', weight: 10 },
          { service: 'front-v2', weight: 90 },
        ],
      },
    });
    const o = await api.waitFor('TrafficSplit', app, 'front', (x) => x.metadata.generation === 3 && hasCond(x, 'Accepted', 'True'));
    const ours = new Set(replicas.map((r) => `weft-controller/${r.identity}`));
    const newest = (o.metadata.managedFields ?? [])
      .filter((f) => f.subresource === 'status' && ours.has(f.manager))
      .sort((x, y) => (x.time ?? '').localeCompare(y.time ?? ''))
      .at(-1);
    expect(newest?.manager).toBe(`weft-controller/${follower.identity}`);
    leader = follower;
  });

  it('hands the lease over at once when the leader is stopped gracefully (SIGTERM releases it)', async () => {
    follower = await start('replica-c');
    await sleep(RETRY_MS * 2);
    expect((await leaderOf(follower))?.leader).toBe(false);
    const t0 = performance.now();
    expect(await leader.stop()).toBe(0);
    await waitLeader([follower], LEASE_MS * 3);
    const handover = performance.now() - t0;
    console.log(`leader handover after SIGTERM (lease released): ${handover.toFixed(0)} ms`);
    expect(handover).toBeLessThan(LEASE_MS);
    expect(leader.output()).toContain('leader lease released');
    for (const r of replicas) expect(forbiddenLines(r.output())).toEqual([]);
  });
});
