// BackendPolicy on real Pods: Weft installed by its chart (confined release), three injected
// `echo` Pods behind Service echo:80 and an injected client Pod whose sidecar captures its
// calls. Without a policy the client's sidecar round-robins, so one x-user value reaches
// several Pods; with a BackendPolicy RingHash on x-user, applied with kubectl, every value
// stays on one Pod while the values spread over the three. The node carries a
// topology.kubernetes.io/zone label, which reaches the EndpointSlices (the zone failover input)
// and the Pods (the sidecar's --service-zone); zone failover is then shown through the client's
// sidecar on a Service whose EndpointSlice places one Pod in the client's zone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/kube.ts';
import { napply, nk, nkJson, nodeCluster, nodeSuitesEnabled } from '../node/support.ts';
import { installWeft, weftImages, type WeftRelease } from './support/weft.ts';
import { deployEcho, idleClientPod } from './support/traffic-loop.ts';

const ZONE = 'zone-e2e-a';
const USERS = 30;
const REQUESTS = 300;

// Runs in the client's app container: REQUESTS GETs, 4 at a time, request k with x-user
// user-(k mod USERS); prints {"<user>": {"<pod>": n}} and the error count as one JSON line.
const CALLER = `
const [url, total, users] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const seen = {}; let errors = 0, next = 0;
async function worker() {
  while (next < total) {
    const user = 'user-' + (next++ % users);
    try {
      const r = await fetch(url, { headers: { 'x-user': user }, signal: AbortSignal.timeout(5000) });
      const pod = (await r.text()).trim();
      if (r.status !== 200) { errors++; continue; }
      (seen[user] ??= {})[pod] = (seen[user][pod] ?? 0) + 1;
    } catch { errors++; }
  }
}
Promise.all([worker(), worker(), worker(), worker()]).then(() => console.log(JSON.stringify({ seen, errors })));
`;

interface CallResult {
  seen: Record<string, Record<string, number>>;
  errors: number;
}

describe.skipIf(!nodeSuitesEnabled)('BackendPolicy on real Pods', () => {
  let rel: WeftRelease;
  let mesh: { name: string; remove: () => Promise<void> };
  let image = '';

  beforeAll(async () => {
    const c = await nodeCluster();
    const node = c.env.WEFT_NODE_NAME ?? 'weft-node';
    await nk(['label', 'node', node, `topology.kubernetes.io/zone=${ZONE}`, '--overwrite']);
    image = (await weftImages()).weft;
    rel = await installWeft();
    mesh = await rel.meshNamespace('backend');
    await deployEcho(mesh.name, image, 3);
    await napply(idleClientPod('client', image), mesh.name);
    await nk(['-n', mesh.name, 'wait', '--for=condition=Ready', 'pod/client', '--timeout=180s'], { timeoutMs: 200_000 });
  }, 1_800_000);

  afterAll(async () => {
    await mesh?.remove();
    await rel?.uninstall();
  }, 200_000);

  async function call(): Promise<CallResult> {
    const url = `http://echo.${mesh.name}.svc.cluster.local/`;
    const r = await nk(['-n', mesh.name, 'exec', 'client', '-c', 'app', '--', 'node', '-e', CALLER, url, String(REQUESTS), String(USERS)], {
      timeoutMs: 120_000,
    });
    return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as CallResult;
  }
  const podsPerUser = (r: CallResult) => Object.values(r.seen).map((pods) => Object.keys(pods).length);
  const podsUsed = (r: CallResult) => new Set(Object.values(r.seen).flatMap((pods) => Object.keys(pods)));

  it('the zone label reaches the EndpointSlices and the Pods', async () => {
    const slices = await nkJson<{ items: { endpoints?: { zone?: string }[] }[] }>([
      '-n',
      mesh.name,
      'get',
      'endpointslices',
      '-l',
      'kubernetes.io/service-name=echo',
    ]);
    const zones = slices.items.flatMap((s) => (s.endpoints ?? []).map((e) => e.zone));
    expect(zones).toEqual([ZONE, ZONE, ZONE]);
    const pod = await nkJson<{ metadata: { labels?: Record<string, string> } }>(['-n', mesh.name, 'get', 'pod', 'client']);
    console.log(
      `[pods backend] client Pod zone label (PodTopologyLabelsAdmission → WEFT_ZONE → --service-zone): ${pod.metadata.labels?.['topology.kubernetes.io/zone'] ?? '(none)'}`,
    );
  });

  it('round robin spreads one x-user value over several Pods', { timeout: 180_000 }, async () => {
    const r = await call();
    const spread = podsPerUser(r).filter((n) => n > 1).length;
    console.log(`[pods backend] no policy: ${spread}/${USERS} x-user values reached more than one Pod; Pods used ${podsUsed(r).size}; errors ${r.errors}`);
    expect(r.errors).toBe(0);
    expect(spread).toBeGreaterThan(USERS / 2);
  });

  it('RingHash on x-user keeps each value on one Pod, Accepted and Programmed', { timeout: 240_000 }, async () => {
    await napply(
      {
        apiVersion: 'mesh.weft.dev/v1alpha1',
        kind: 'BackendPolicy',
        metadata: { name: 'echo' },
        spec: { targetRef: { kind: 'Service', name: 'echo' }, loadBalancer: { algorithm: 'RingHash', hashKey: { header: 'x-user' } } },
      },
      mesh.name,
    );
    type Status = { status?: { summary?: string; conditions?: { type: string; status: string; message: string }[] } };
    const bp = await eventually(() => nkJson<Status>(['-n', mesh.name, 'get', 'backendpolicy', 'echo']), {
      until: (o) => ['Accepted', 'ResolvedRefs', 'Programmed'].every((t) => o.status?.conditions?.find((c) => c.type === t)?.status === 'True'),
      timeoutMs: 60_000,
      what: 'BackendPolicy echo Accepted, ResolvedRefs and Programmed',
    });
    const wide = await nk(['-n', mesh.name, 'get', 'bp', '-o', 'wide']);
    console.log(`[pods backend] kubectl get bp -o wide:\n${wide.stdout.trim()}`);
    expect(bp.status?.summary).toBe('RingHash on header x-user');

    // Programmed counts every sidecar that receives echo's routes, whichever replica it is
    // connected to: the chart runs two, each publishing a report Lease the leader adds up.
    const sidecars = (
      await nkJson<{ items: { spec: { containers: { name: string }[]; initContainers?: { name: string }[] } }[] }>(['-n', mesh.name, 'get', 'pods'])
    ).items.filter((p) => [...(p.spec.initContainers ?? []), ...p.spec.containers].some((c) => c.name === 'weft-proxy')).length;
    type Lease = { spec: { holderIdentity: string }; metadata: { annotations?: Record<string, string> } };
    const reports = (await nkJson<{ items: Lease[] }>(['-n', rel.namespace, 'get', 'lease', '-l', 'app.kubernetes.io/component=weft-replica-report'])).items;
    const perReplica = reports.map((l) => {
      const r = JSON.parse(l.metadata.annotations?.['weft.dev/report'] ?? '{}') as { resources?: Record<string, number[]> };
      return `${l.spec.holderIdentity}: ${r.resources?.[`BackendPolicy ${mesh.name}/echo`]?.[0] ?? 0}`;
    });
    const programmed = bp.status?.conditions?.find((c) => c.type === 'Programmed')?.message;
    console.log(`[pods backend] Programmed: ${programmed}; ${sidecars} sidecars; affected per replica report: ${perReplica.join(', ')}`);
    expect(reports.length).toBe((await rel.pods()).length);
    expect(programmed).toBe(`${sidecars}/${sidecars} proxies acknowledged the current configuration`);

    const r = await call();
    const sticky = podsPerUser(r).filter((n) => n === 1).length;
    console.log(
      `[pods backend] RingHash on x-user: ${sticky}/${USERS} values each on one Pod over ${REQUESTS} requests; Pods used ${podsUsed(r).size}; errors ${r.errors}`,
    );
    expect(r.errors).toBe(0);
    expect(sticky).toBe(USERS);
    expect(podsUsed(r).size).toBeGreaterThan(1);
  });

  // One node has one zone, so this Service's EndpointSlice is written by hand: the same echo
  // Pods, one of them said to be in the client's zone, the other two in zone-b. The client's
  // sidecar knows its zone only from its Pod's label (WEFT_ZONE → --service-zone).
  it('zone failover: the client sidecar prefers its zone, and fails over when it has no ready endpoint', { timeout: 240_000 }, async () => {
    type Pod = { metadata: { name: string }; status: { podIP: string } };
    const echo = (await nkJson<{ items: Pod[] }>(['-n', mesh.name, 'get', 'pods', '-l', 'app=echo'])).items.sort((a, b) =>
      a.metadata.name < b.metadata.name ? -1 : 1,
    );
    const [local, ...remote] = echo;
    if (!local || remote.length !== 2) throw new Error(`expected 3 echo Pods, got ${echo.length}`);
    const slice = (localReady: boolean) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'zoned-1', labels: { 'kubernetes.io/service-name': 'zoned', 'endpointslice.kubernetes.io/managed-by': 'weft-e2e' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: echo.map((p) => ({
        addresses: [p.status.podIP],
        zone: p === local ? ZONE : 'zone-e2e-b',
        conditions: { ready: p === local ? localReady : true },
        targetRef: { kind: 'Pod', name: p.metadata.name, namespace: mesh.name },
      })),
    });
    await napply(
      [
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'zoned' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
        slice(true),
        {
          apiVersion: 'mesh.weft.dev/v1alpha1',
          kind: 'BackendPolicy',
          metadata: { name: 'zoned' },
          spec: { targetRef: { kind: 'Service', name: 'zoned' }, locality: { mode: 'Failover' } },
        },
      ],
      mesh.name,
    );
    const url = `http://zoned.${mesh.name}.svc.cluster.local/`;
    const pods = async () => {
      const r = await nk(['-n', mesh.name, 'exec', 'client', '-c', 'app', '--', 'node', '-e', CALLER, url, '60', '6'], { timeoutMs: 120_000 });
      const res = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as CallResult;
      expect(res.errors).toBe(0);
      return [...podsUsed(res)].sort();
    };
    const near = await eventually(pods, {
      until: (p) => p.length === 1 && p[0] === local.metadata.name,
      timeoutMs: 60_000,
      what: `only ${local.metadata.name} (${ZONE}) answering`,
    });
    console.log(`[pods backend] zone failover, client in ${ZONE}: answered by ${near.join(', ')} (the only Pod in ${ZONE})`);

    await napply(slice(false), mesh.name);
    const expected = remote.map((p) => p.metadata.name).sort();
    const far = await eventually(pods, { until: (p) => JSON.stringify(p) === JSON.stringify(expected), timeoutMs: 60_000, what: 'the zone-b Pods answering' });
    console.log(`[pods backend] ${local.metadata.name} unready: answered by ${far.join(', ')} (zone-e2e-b)`);
  });

  it('a BackendPolicy the API server refuses names the field', async () => {
    const bad = await nk(['-n', mesh.name, 'apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'mesh.weft.dev/v1alpha1',
        kind: 'BackendPolicy',
        metadata: { name: 'bad' },
        spec: { targetRef: { kind: 'Service', name: 'echo' }, loadBalancer: { algorithm: 'RingHash' } },
      }),
      allowFailure: true,
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('spec.loadBalancer.hashKey');
  });
});
