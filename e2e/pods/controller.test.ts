// The chart in-cluster on the real node: the controller runs as 2 Pods of Weft's own image,
// elects a leader through a Lease, is guarded by a PDB, bootstraps the CA once, and the real
// API server calls its webhook through the webhook Service. Injected Pods get their config
// and certificate over TLS xDS through the xDS Service. Then, under continuous traffic
// between two injected workloads: a helm upgrade (image tag change) rolls the controller,
// the leader's process is killed -9, and the leader Pod is force-deleted — 0 failed
// requests each time, failover times printed. Finally helm uninstall removes every object it
// created (listed across all API resources before and after).
// Figures printed: Pod create → Ready injected vs plain, controller Pod memory, failover.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { eventually, repoRoot, run } from '../support/kube.ts';
import { napply, nk, nkJson, nodeCluster, nodeSuitesEnabled, type NodeCluster } from '../node/support.ts';
import { installWeft, nhelm, retagWeftImage, weftImages, type WeftImages, type WeftRelease } from './support/weft.ts';
import { countRequests, deployEcho, settledCount, startLoop } from './support/traffic-loop.ts';
import { containerId, controllerMemory, releaseObjects, timeToReady } from './support/observe.ts';

describe.skipIf(!nodeSuitesEnabled)('Weft in-cluster: the chart on the real node', () => {
  let c: NodeCluster;
  let img: WeftImages;
  let rel: WeftRelease;
  let mesh: { name: string; remove: () => Promise<void> };
  let plain: { name: string; remove: () => Promise<void> } | undefined;
  let objectsBefore: string[] = [];

  beforeAll(async () => {
    c = await nodeCluster();
    const t0 = Date.now();
    img = await weftImages();
    console.log(`[pods controller] images built/imported in ${Date.now() - t0} ms`);
    const release = `weft-ctl-${Date.now().toString(36).slice(-5)}`;
    objectsBefore = await releaseObjects(release);
    const t1 = Date.now();
    rel = await installWeft({ release });
    console.log(`[pods controller] helm install → 2 Pods Ready, leader, webhook answering: ${Date.now() - t1} ms`);
    mesh = await rel.meshNamespace('ctl-mesh');
  }, 1_800_000);
  afterAll(async () => {
    await mesh?.remove();
    await plain?.remove();
    await rel?.uninstall();
  }, 200_000);

  it('runs 2 Ready controller Pods with one Lease holder, a PDB, and a root CA created once', async () => {
    const pods = await rel.pods();
    expect(pods.filter((p) => p.ready)).toHaveLength(2);
    const lease = await rel.leader();
    expect(pods.map((p) => p.name)).toContain(lease.holder);
    const pdb = await nkJson<{ spec: { minAvailable: number }; status: { currentHealthy: number; disruptionsAllowed: number } }>([
      'get',
      'pdb',
      rel.fullname,
      '-n',
      rel.namespace,
    ]);
    expect(pdb.spec.minAvailable).toBe(1);
    await eventually(() => nkJson<typeof pdb>(['get', 'pdb', rel.fullname, '-n', rel.namespace]), {
      until: (p) => p.status.currentHealthy === 2 && p.status.disruptionsAllowed === 1,
      what: 'the PDB seeing 2 healthy Pods',
    });
    // Exactly one replica generated the root; the other read it (or lost the create race and adopted it).
    const logs = await Promise.all(pods.map(async (p) => (await nk(['-n', rel.namespace, 'logs', p.name])).stdout));
    const sources = logs.map((l) => /"source":"(\w+)","trustDomain"/.exec(l)?.[1]).sort();
    expect(sources.filter((s) => s === 'created')).toHaveLength(1);
    expect(sources.filter((s) => s !== 'created')).toEqual([expect.stringMatching(/^(loaded|adopted)$/)]);
    await nk(['get', 'secret', 'weft-root-ca', '-n', rel.namespace]);
  });

  it('weftctl check: every check passes against the running release, one line each, exit 0', async () => {
    const r = await run(
      process.execPath,
      [join(repoRoot, 'bin/weftctl.js'), 'check', '-n', rel.namespace, '--release', rel.release, '--kubeconfig', c.kubeconfig],
      {
        allowFailure: true,
      },
    );
    console.log(`[pods controller] weftctl check:\n${r.stdout}`);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^✔ API server v1\.\d+/m);
    expect(r.stdout).toMatch(/^✔ controller .*: 2\/2 replicas ready$/m);
    expect(r.stdout).toMatch(/^✔ leader \S+ \(Lease /m);
    expect(r.stdout).toMatch(/^✔ injection webhook .*: caBundle trusts the root CA$/m);
    expect(r.stdout).toMatch(/^✔ injection: a dry-run Pod in \S+ came back with the weft-proxy sidecar$/m);
    expect(r.stdout).not.toMatch(/^✘/m);
  }, 120_000);

  it('injects Pods through the in-cluster webhook; their sidecars get config and a SPIFFE certificate over TLS xDS', async () => {
    await deployEcho(mesh.name, img.weft);
    await startLoop(mesh.name, img.weft);
    const pod = await nkJson<{ spec: { initContainers?: { name: string; restartPolicy?: string }[] } }>(['get', 'pod', 'loop', '-n', mesh.name]);
    expect(pod.spec.initContainers?.map((i) => i.name)).toEqual(['weft-init', 'weft-proxy']);
    // Envoy's admin (127.0.0.1:15000) from the app container, which shares the Pod's network.
    const admin = async (path: string) =>
      (
        await nk([
          '-n',
          mesh.name,
          'exec',
          'loop',
          '-c',
          'app',
          '--',
          'node',
          '-e',
          `fetch('http://127.0.0.1:15000${path}').then(r=>r.text()).then(t=>process.stdout.write(t))`,
        ])
      ).stdout;
    const certs = await admin('/certs');
    expect(certs).toContain(`spiffe://cluster.local/ns/${mesh.name}/sa/default`);
    const stats = await admin('/stats?filter=(control_plane.connected_state|listener_manager.total_listeners_active)');
    console.log(`[pods controller] sidecar stats:\n${stats.trim()}`);
    expect(stats).toMatch(/control_plane\.connected_state: 1/);
    // The connected ADS stream is the bootstrap's google_grpc one: TLS (ssl_credentials with the
    // mesh CA) to the chart's xDS Service, whose port 15012 serves TLS only.
    interface GrpcService {
      google_grpc?: { target_uri: string; channel_credentials?: { ssl_credentials?: unknown } };
    }
    interface BootstrapDump {
      configs: { '@type': string; bootstrap?: { dynamic_resources: { ads_config: { grpc_services: GrpcService[] } } } }[];
    }
    const dump = JSON.parse(await admin('/config_dump')) as BootstrapDump;
    const ads = dump.configs.find((x) => x.bootstrap)?.bootstrap?.dynamic_resources.ads_config.grpc_services[0]?.google_grpc;
    expect(ads?.target_uri).toBe(`${rel.fullname}.${rel.namespace}.svc:15012`);
    expect(ads?.channel_credentials?.ssl_credentials).toBeDefined();
    const t = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    const counts = await settledCount(mesh.name, t);
    expect(counts.fail).toBe(0);
    expect(counts.ok).toBeGreaterThan(20);
  }, 300_000);

  it('times Pod create → Ready, injected vs plain', async () => {
    plain = {
      name: `${mesh.name}-plain`,
      remove: async () => void (await nk(['delete', 'namespace', `${mesh.name}-plain`, '--wait=false'], { allowFailure: true })),
    };
    await napply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: plain.name, labels: { 'weft.dev/e2e': 'true' } } });
    const injected = await timeToReady(mesh.name, 'timed-injected', img.weft);
    const bare = await timeToReady(plain.name, 'timed-plain', img.weft);
    console.log(`[pods controller] Pod create → Ready: injected ${injected} ms, plain ${bare} ms (the sidecar's cost ${injected - bare} ms)`);
  });

  it('rolls the controller with helm upgrade (image tag change) under traffic: 0 failed requests', async () => {
    const tag = await retagWeftImage('0.1.0-b');
    const before = await rel.pods();
    const t = Date.now();
    await rel.upgrade({ 'image.tag': tag.slice(tag.lastIndexOf(':') + 1) });
    const rolled = Date.now() - t;
    const after = (await rel.pods()).filter((p) => !p.deleting);
    expect(after.every((p) => p.image === tag)).toBe(true);
    expect(after.map((p) => p.uid).filter((u) => before.some((b) => b.uid === u))).toEqual([]);
    const counts = await settledCount(mesh.name, t);
    console.log(
      `[pods controller] helm upgrade rolled 2 controller Pods in ${rolled} ms; traffic: ${counts.ok} ok, ${counts.fail} failed over ${counts.seconds} s`,
    );
    expect(counts.fail, counts.lastErrors.join(', ')).toBe(0);
  }, 300_000);

  it('survives kill -9 of the leader process under traffic: 0 failed requests, failover time printed', async () => {
    const old = await rel.leader();
    expect(old.holder).toBeDefined();
    const id = await containerId(rel.namespace, old.holder!, 'controller');
    const tKill = Date.now();
    // SIGKILL from the host (containerd): PID 1 of a container ignores it from inside.
    await run(c.env.WEFT_CTR!, ['--address', c.env.WEFT_CONTAINERD_SOCK!, '-n', 'k8s.io', 'tasks', 'kill', '--signal', 'SIGKILL', id]);
    const next = await eventually(() => rel.leader(), {
      until: (l) => l.renewTime !== undefined && Date.parse(l.renewTime) > tKill,
      intervalMs: 100,
      timeoutMs: 60_000,
      what: 'a live leader renewing the Lease after the kill',
    });
    const failover = Date.parse(next.renewTime!) - tKill;
    await rel.waitReady();
    const counts = await settledCount(mesh.name, tKill);
    console.log(
      `[pods controller] kill -9 of the leader (${old.holder}): Lease taken by ${next.holder} (${next.holder === old.holder ? 'the same Pod, its container restarted' : 'the other replica'}) ${failover} ms after the kill; traffic: ${counts.ok} ok, ${counts.fail} failed over ${counts.seconds} s`,
    );
    expect(counts.fail, counts.lastErrors.join(', ')).toBe(0);
  }, 180_000);

  it('survives force deletion of the leader Pod under traffic: 0 failed requests, failover time printed', async () => {
    const old = await rel.leader();
    const tKill = Date.now();
    await nk(['-n', rel.namespace, 'delete', 'pod', old.holder!, '--grace-period=0', '--force', '--wait=false']);
    const next = await eventually(() => rel.leader(), {
      until: (l) => l.holder !== undefined && l.holder !== old.holder && l.renewTime !== undefined && Date.parse(l.renewTime) > tKill,
      intervalMs: 100,
      timeoutMs: 60_000,
      what: 'another replica holding the Lease',
    });
    const failover = Date.parse(next.acquireTime ?? next.renewTime!) - tKill;
    await rel.waitReady();
    const counts = await settledCount(mesh.name, tKill);
    console.log(
      `[pods controller] force-deleted leader ${old.holder}: ${next.holder} acquired the Lease ${failover} ms later; traffic: ${counts.ok} ok, ${counts.fail} failed over ${counts.seconds} s`,
    );
    expect(counts.fail, counts.lastErrors.join(', ')).toBe(0);
  }, 180_000);

  it('prints the controller Pods memory with the test mesh running', async () => {
    for (const p of await rel.pods()) {
      const m = await controllerMemory(rel.namespace, p.name);
      console.log(`[pods controller] memory of ${p.name}: ${m}`);
    }
    const total = await countRequests(mesh.name, 0, Date.now());
    console.log(`[pods controller] loop total: ${total.ok} ok, ${total.fail} failed over ${total.seconds} s`);
  });

  it('helm uninstall removes everything it created; what remains is documented', async () => {
    const during = await releaseObjects(rel.release);
    console.log(`[pods controller] objects labelled with the release while installed (${during.length}):\n  ${during.join('\n  ')}`);
    expect(during.length).toBeGreaterThan(10);
    await nhelm(['uninstall', rel.release, '-n', rel.namespace, '--wait', '--timeout=120s'], { timeoutMs: 150_000 });
    await eventually(() => releaseObjects(rel.release), { until: (o) => o.length === 0, timeoutMs: 60_000, what: 'no object labelled with the release' });
    const named = await nk(['get', 'mutatingwebhookconfigurations,validatingwebhookconfigurations,clusterroles,clusterrolebindings', '-o', 'name']);
    expect(named.stdout).not.toContain(rel.fullname);
    // Report Leases are owned by their replica's Pod: the garbage collector removes them with the Pods.
    const remaining = async () =>
      (await nk(['get', 'all,secrets,leases,configmaps,serviceaccounts,roles,rolebindings,pdb', '-n', rel.namespace, '-o', 'name'])).stdout
        .trim()
        .split('\n')
        .filter(Boolean);
    const left = await eventually(remaining, {
      until: (l) => !l.some((n) => n.includes('/weft-replica-')),
      timeoutMs: 60_000,
      what: 'report Leases collected with their Pods',
    });
    console.log(`[pods controller] left in ${rel.namespace} after uninstall: ${left.join(', ')}`);
    // Not Helm's: the CA root (kept so a reinstall keeps trusting running sidecars) and the
    // Lease, both written by the controller (charts/weft/README.md); plus what Kubernetes
    // puts into every namespace.
    expect(left.sort()).toEqual(
      ['configmap/kube-root-ca.crt', `lease.coordination.k8s.io/${rel.leaseName}`, 'secret/weft-root-ca', 'serviceaccount/default'].sort(),
    );
    expect(await releaseObjects(rel.release)).toEqual(objectsBefore);
  }, 200_000);
});
