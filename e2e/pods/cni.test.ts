// CNI mode on the real node (docs/cni.md): one release, first in init-container mode (the
// baseline, and PodSecurity `restricted` refusing its weft-init), then upgraded to
// cni.enabled with the weft-cni DaemonSet held off the node by a nodeSelector, so a Pod is
// created while the plugin is absent (the race); then the node gets the label, the DaemonSet
// installs the plugin, repairs that Pod, and injected Pods in a namespace enforcing
// `restricted` are admitted, captured, talk over mTLS and refuse plaintext under STRICT.
// Uninstall must leave the node's CNI configuration byte for byte as before.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, run, toYaml } from '../support/kube.ts';
import { VALIDATION_EXIT_CODE } from '../../src/capture/validate.ts';
import { napply, nk, nkJson, nodeCluster, nodeSuitesEnabled } from '../node/support.ts';
import { installWeft, type WeftRelease } from './support/weft.ts';
import { containerPid, copyShopApp, envoyStats, failures, load, pods, statSum, statusOf, waitPodReady, type PodInfo } from './support/shop.ts';
import { cniDirs, dirBytes, hostGet, httpService, pluginLog, restrictedDeployment, restrictedPod, type CniDirs } from './support/cni.ts';

const ENFORCE = 'pod-security.kubernetes.io/enforce';

async function createToReady(ns: string, prefix: string, n: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${prefix}-${i}`;
    const t0 = Date.now();
    await napply(restrictedPod(name), ns);
    await waitPodReady(ns, name);
    ms.push(Date.now() - t0);
    await nk(['-n', ns, 'delete', 'pod', name, '--wait=false']);
  }
  return ms;
}

/** weft-validation's exit codes, now and before its last restart. */
function validationExits(p: PodInfo): number[] {
  const s = statusOf(p, 'weft-validation') as (ReturnType<typeof statusOf> & { lastState?: { terminated?: { exitCode: number } } }) | undefined;
  return [s?.state.terminated?.exitCode, s?.lastState?.terminated?.exitCode].filter((x): x is number => x !== undefined);
}

const nat = async (p: PodInfo) =>
  (await run('nsenter', ['-t', String(await containerPid(p, 'app')), '-n', 'nft', 'list', 'table', 'ip', 'nat'], { allowFailure: true })).stdout;

describe.skipIf(!nodeSuitesEnabled)('CNI mode on the real node', () => {
  let rel: WeftRelease;
  let dirs: CniDirs;
  let before: { conf: Record<string, string>; bin: Record<string, string> };
  let node: string;
  let logFile: string;
  let gate: string;
  let initNs: { name: string; remove: () => Promise<void> };
  let rNs: { name: string; remove: () => Promise<void> };
  const timings: Record<string, number[]> = {};

  beforeAll(async () => {
    const c = await nodeCluster();
    dirs = await cniDirs();
    node = c.env.WEFT_NODE_NAME ?? '';
    logFile = join(c.dir, 'node', 'weft-cni.log');
    await rm(logFile, { force: true }); // a kept cluster dir holds an earlier run's lines
    before = { conf: await dirBytes(dirs.confDir), bin: await dirBytes(dirs.binDir) };
    rel = await installWeft({ set: { 'controller.replicas': '1' } });
    gate = `weft.dev/e2e-cni-${rel.release}`;
    initNs = await rel.meshNamespace('cni-init');
    rNs = await rel.meshNamespace('cni-restricted');
    await nk(['label', 'namespace', rNs.name, `${ENFORCE}=restricted`, `${ENFORCE}-version=latest`]);
    for (const ns of [initNs.name, rNs.name]) await copyShopApp(ns);
  }, 600_000);

  afterAll(async () => {
    await nk(['label', 'node', node, `${gate}-`], { allowFailure: true });
    await initNs?.remove();
    await rNs?.remove();
    await rel?.uninstall();
  }, 300_000);

  it('init-container mode: Pods start (the baseline), and `restricted` refuses them for weft-init', async () => {
    timings['init-container mode'] = await createToReady(initNs.name, 'init', 3);
    const r = await nk(['-n', rNs.name, 'create', '--dry-run=server', '-f', '-'], { input: toYaml(restrictedPod('refused')), allowFailure: true });
    console.log(`[cni] init-container mode in a restricted namespace: ${r.stderr.trim().slice(0, 400)}`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/violates PodSecurity "restricted:latest".*weft-init/s);
  }, 240_000);

  it('a Pod created while weft-cni is absent never serves unmeshed; once the DaemonSet is ready it is recreated with capture', async () => {
    const t0 = Date.now();
    await rel.upgrade({
      'cni.enabled': 'true',
      'cni.binDir': dirs.binDir,
      'cni.confDir': dirs.confDir,
      'cni.logFile': logFile,
      [`cni.nodeSelector.${gate.replace(/\./g, '\\.')}`]: 'ready',
    });
    console.log(`[cni] upgraded to CNI mode (DaemonSet held off the node) in ${Date.now() - t0} ms`);
    const ds = `${rel.fullname}-cni`;
    expect((await nkJson<{ status: { desiredNumberScheduled: number } }>(['-n', rel.namespace, 'get', 'daemonset', ds])).status.desiredNumberScheduled).toBe(0);

    await napply([httpService('web'), restrictedDeployment('web')], rNs.name);
    const stuck = await eventually(() => pods(rNs.name, 'app=web'), {
      until: (l) => l.some((p) => validationExits(p).includes(VALIDATION_EXIT_CODE)),
      timeoutMs: 90_000,
      what: 'weft-validation failing in the uncaptured Pod',
    });
    const old = stuck[0] as PodInfo;
    const logs = await nk(['-n', rNs.name, 'logs', old.metadata.name, '-c', 'weft-validation', '--previous'], { allowFailure: true });
    console.log(`[cni] uncaptured Pod ${old.metadata.name}: ${(logs.stdout || logs.stderr).trim().slice(0, 300)}`);
    expect(old.spec.initContainers?.map((c) => c.name)).toEqual(['weft-validation', 'weft-proxy']);
    expect(statusOf(old, 'app')?.state.running).toBeUndefined();
    expect(old.status.conditions?.find((c) => c.type === 'Ready')?.status).not.toBe('True');
    const served = await hostGet(`http://${old.status.podIP}:8080/`);
    console.log(`[cni] GET the uncaptured Pod's app port from the host: ${served}`);
    expect(served).not.toMatch(/^HTTP/);

    const t1 = Date.now();
    await nk(['label', 'node', node, `${gate}=ready`]);
    await nk(['-n', rel.namespace, 'rollout', 'status', `daemonset/${ds}`, '--timeout=120s'], { timeoutMs: 150_000 });
    const dsReady = Date.now() - t1;
    const fresh = await eventually(() => pods(rNs.name, 'app=web'), {
      until: (l) => l.some((p) => p.metadata.uid !== old.metadata.uid && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')),
      timeoutMs: 120_000,
      what: 'the web Pod recreated and Ready',
    });
    console.log(`[cni] node labelled → DaemonSet ready ${dsReady} ms → repaired Pod Ready ${Date.now() - t1} ms after the label`);
    expect(
      await pods(rNs.name, 'app=web', { terminating: true }).then((l) => l.some((p) => p.metadata.uid === old.metadata.uid && !p.metadata.deletionTimestamp)),
    ).toBe(false);
    const p = fresh.find((x) => x.metadata.uid !== old.metadata.uid) as PodInfo;
    expect(statusOf(p, 'weft-validation')?.state.terminated?.exitCode).toBe(0);
    const rules = await nat(p);
    expect(rules).toMatch(/chain WEFT_OUT_REDIRECT[^}]*redirect to :15001/);
    expect(rules).toMatch(/chain WEFT_IN_REDIRECT[^}]*redirect to :15006/);
    expect(rules).toMatch(/skuid 1337[^\n]*return/);
  }, 400_000);

  it('restricted: injected Pods are admitted and start; outbound goes through the sidecar over mTLS; plaintext inbound is refused under STRICT', async () => {
    const web = (await pods(rNs.name, 'app=web'))[0] as PodInfo;
    // PERMISSIVE (the default): a plaintext request from the host (not meshed) is captured and served.
    const permissive = await eventually(() => hostGet(`http://${web.status.podIP}:8080/`), {
      until: (r) => r === 'HTTP 200',
      timeoutMs: 30_000,
      what: 'plaintext served under PERMISSIVE',
    });
    console.log(`[cni] plaintext GET from the host to web under PERMISSIVE: ${permissive}`);
    await napply({ apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'PeerAuth', metadata: { name: 'default' }, spec: { mtls: { mode: 'STRICT' } } }, rNs.name);
    await napply(restrictedPod('client'), rNs.name);
    await waitPodReady(rNs.name, 'client');
    const client = await nkJson<PodInfo>(['-n', rNs.name, 'get', 'pod', 'client']);
    const sidecar = (client.spec.initContainers as { name: string; securityContext?: unknown }[] | undefined)?.find((c) => c.name === 'weft-proxy');
    console.log(`[cni] sidecar securityContext: ${JSON.stringify(sidecar?.securityContext)}`);

    const url = `http://web.${rNs.name}.svc.cluster.local:8080/`;
    const s = await eventually(() => load(100, { namespace: rNs.name, pod: 'client', url, rate: 100, concurrency: 4, timeoutMs: 3000 }), {
      until: (x) => failures(x) === 0,
      timeoutMs: 60_000,
      what: 'the client reaching web through the mesh',
    });
    const cs = await envoyStats(client.status.podIP ?? '');
    const ws = await envoyStats(web.status.podIP ?? '');
    const routed = statSum(cs, /(?<!external)_upstream_rq_completed\{/, 'outbound|8080||web');
    const originated = statSum(cs, 'ssl_handshake{', 'outbound|8080||web');
    const terminated = statSum(ws, 'envoy_listener_ssl_handshake{', '0.0.0.0_15006');
    console.log(
      `[cni] ${s.requests} requests client → web: ok ${JSON.stringify(s.ok)}; client sidecar routed ${routed}, originated ${originated} TLS handshakes; web sidecar terminated ${terminated}`,
    );
    expect(routed).toBeGreaterThanOrEqual(100);
    expect(originated).toBeGreaterThan(0);
    expect(terminated).toBeGreaterThan(0);

    const plain = await eventually(() => hostGet(`http://${web.status.podIP}:8080/`), {
      until: (r) => !r.startsWith('HTTP'),
      timeoutMs: 30_000,
      what: 'plaintext refused',
    });
    console.log(`[cni] plaintext GET from the host (unmeshed) to web under STRICT: ${plain}`);

    timings['CNI mode (restricted)'] = await createToReady(rNs.name, 'cni', 3);
    const lines = (await pluginLog(logFile)).filter((l) => l.captured);
    console.log(
      `[cni] weft-cni ADD per meshed Pod (rules applied / whole plugin run, ms): ${lines.map((l) => `${l.pod} ${l.applyMs}/${l.totalMs}`).join(', ')}`,
    );
    expect(lines.length).toBeGreaterThanOrEqual(5);
    console.log(
      `[cni] Pod create → Ready (ms, under contention): ${Object.entries(timings)
        .map(([k, v]) => `${k} ${v.join(', ')}`)
        .join('; ')}`,
    );
  }, 300_000);

  it('uninstall leaves the node CNI configuration and bin dir as before, byte for byte', async () => {
    expect(Object.keys(await dirBytes(dirs.binDir))).toContain('weft-cni');
    for (const ns of [initNs, rNs]) await nk(['delete', 'namespace', ns.name, '--wait=true', '--timeout=120s'], { allowFailure: true, timeoutMs: 150_000 });
    await rel.uninstall({ keepNamespace: true });
    await eventually(async () => ({ conf: await dirBytes(dirs.confDir), bin: await dirBytes(dirs.binDir) }), {
      until: (now) => JSON.stringify(now) === JSON.stringify(before),
      timeoutMs: 90_000,
      what: 'the CNI directories as before install',
    });
    console.log(
      `[cni] after uninstall: ${dirs.confDir} = ${Object.keys(before.conf).join(', ')} (bytes equal), ${dirs.binDir} = [${Object.keys(before.bin).join(', ')}]`,
    );
  }, 300_000);
});
