// The shop demo (examples/shop) on real Pods: Weft installed in the node cluster by its chart
// (2 controller replicas), the shop applied as a user applies it, every Pod injected by the
// real webhook and started by the kubelet (weft-init, then the native sidecar, then the app).
// The in-mesh client calls checkout.shop.svc.cluster.local (CoreDNS, the ClusterIP kube-proxy
// allocated), its sidecar routes by the TrafficSplit and originates mTLS to the backends'.
// One file, in order: the traffic tests share the shop namespace (its name is in the URL).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_PATH } from '../../webhook/values.ts';
import { eventually, run } from '../support/kube.ts';
import { napply, nk, nkJson, nodeNamespace, nodeSuitesEnabled } from '../node/support.ts';
import { installWeft, type WeftRelease } from './support/weft.ts';
import {
  applyShop,
  checkoutPod,
  containerPid,
  copyShopApp,
  envoyStats,
  failures,
  load,
  pods,
  restarts,
  setFailPercent,
  share,
  SHOP,
  startLoad,
  statSum,
  statusOf,
  waitPodReady,
  type PodInfo,
} from './support/shop.ts';

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

describe.skipIf(!nodeSuitesEnabled)('the shop on real Pods', () => {
  let rel: WeftRelease;
  let plain: { name: string; remove: () => Promise<void> };

  beforeAll(async () => {
    const t0 = Date.now();
    rel = await installWeft();
    const t1 = Date.now();
    await applyShop(rel.meshLabels);
    await copyShopApp(SHOP); // for the test's own Pods (checkoutPod)
    for (const d of ['checkout-v1', 'checkout-v2', 'client']) {
      await nk(['-n', SHOP, 'rollout', 'status', `deployment/${d}`, '--timeout=180s'], { timeoutMs: 200_000 });
    }
    console.log(`[shop] weft installed (2 replicas ready) in ${t1 - t0} ms; shop Deployments available ${Date.now() - t1} ms after apply`);
    plain = await nodeNamespace('shop-plain');
    await copyShopApp(plain.name);
  }, 600_000);

  afterAll(async () => {
    await nk(['delete', 'namespace', SHOP, '--wait=false', '--ignore-not-found'], { allowFailure: true });
    await plain?.remove();
    await rel?.uninstall();
  }, 180_000);

  it('injected Pods: weft-init captured in the Pod netns, the native sidecar has a kubelet token and an SDS certificate', async () => {
    const [p] = await pods(SHOP, 'app=checkout,version=v1');
    if (!p) throw new Error('no checkout-v1 Pod');
    expect(p.spec.initContainers?.map((c) => [c.name, c.restartPolicy ?? ''])).toEqual([
      ['weft-init', ''],
      ['weft-proxy', 'Always'],
    ]);
    expect(statusOf(p, 'weft-init')?.state.terminated?.exitCode).toBe(0);
    expect(statusOf(p, 'weft-proxy')).toMatchObject({ started: true, ready: true, restartCount: 0 });

    // The rules weft-init installed, read from the host inside the Pod's network namespace.
    const pid = await containerPid(p, 'checkout');
    const nat = (await run('nsenter', ['-t', String(pid), '-n', 'nft', 'list', 'table', 'ip', 'nat'])).stdout;
    expect(nat).toMatch(/chain WEFT_IN_REDIRECT[^}]*redirect to :15006/);
    expect(nat).toMatch(/chain WEFT_OUT_REDIRECT[^}]*redirect to :15001/);
    expect(nat).toMatch(/skuid 1337[^\n]*return/);

    // The projected token the kubelet wrote: audience weft, bound to this Pod.
    const token = (await nk(['-n', SHOP, 'exec', p.metadata.name, '-c', 'weft-proxy', '--', 'cat', TOKEN_PATH])).stdout;
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { aud: string[]; 'kubernetes.io': { pod: { name: string } } };
    expect(claims.aud).toEqual(['weft']);
    expect(claims['kubernetes.io'].pod.name).toBe(p.metadata.name);

    // The workload certificate and trust bundle arrived over SDS.
    const stats = await envoyStats(p.status.podIP ?? '');
    const sds = [...stats].filter(([k]) => k.startsWith('envoy_sds_update_success'));
    console.log(`[shop] SDS in ${p.metadata.name}: ${sds.map(([k, v]) => `${k} ${v}`).join(', ')}`);
    expect(statSum(stats, 'sds', 'update_success', 'default')).toBeGreaterThan(0);
    expect(statSum(stats, 'sds', 'update_success', 'ROOTCA')).toBeGreaterThan(0);
  });

  it('splits checkout 90/10 (± 3) over 2000 requests through CoreDNS and the ClusterIP, over mTLS', async () => {
    const client = (await pods(SHOP, 'app=client'))[0] as PodInfo;
    const clusterIP = (await nk(['-n', SHOP, 'get', 'svc', 'checkout', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    const resolved = await nk([
      '-n',
      SHOP,
      'exec',
      client.metadata.name,
      '--',
      'node',
      '-e',
      "require('dns').lookup('checkout.shop.svc.cluster.local',(e,a)=>console.log(e??a))",
    ]);
    expect(resolved.stdout.trim()).toBe(clusterIP);

    const backends = await pods(SHOP, 'app=checkout');
    // Stats read from the host at each Pod's 15090 (not captured). Envoy cuts cluster names at
    // the first dot: `..._upstream_rq_completed{envoy_cluster_name="outbound|8080||checkout-v1"}`.
    const completed = async () => statSum(await envoyStats(client.status.podIP ?? ''), /(?<!external)_upstream_rq_completed\{/, 'outbound|8080||checkout-');
    const routedBefore = await completed();
    const s = await load(2000, { rate: 250, concurrency: 8 });
    const routed = (await completed()) - routedBefore;
    console.log(
      `[shop] split over ${s.requests} requests in ${s.seconds} s: v1 ${pct(share(s, 'v1'))}, v2 ${pct(share(s, 'v2'))}, errors ${JSON.stringify(s.errors)}; the client sidecar routed ${routed} requests to checkout-v1/v2`,
    );
    expect(s.requests).toBe(2000);
    expect(failures(s)).toBe(0);
    expect(Math.abs(share(s, 'v2') - 0.1)).toBeLessThanOrEqual(0.03);
    // The app dialled the ClusterIP; capture handed every request to its sidecar (the
    // background client adds its own 10 per second).
    expect(routed).toBeGreaterThanOrEqual(2000);

    // mTLS on both ends: the client's sidecar originated TLS to checkout's endpoints, each
    // backend's sidecar terminated it on its inbound listener, and nothing arrived there in
    // plaintext (a connection without TLS matches no filter chain under STRICT).
    const clientStats = await envoyStats(client.status.podIP ?? '');
    const originated = statSum(clientStats, 'ssl_handshake{', 'outbound|8080||checkout-');
    const inbound = await Promise.all(backends.map((b) => envoyStats(b.status.podIP ?? '')));
    const terminated = inbound.map((a) => statSum(a, 'envoy_listener_ssl_handshake{', '0.0.0.0_15006'));
    const connections = inbound.map((a) => statSum(a, 'envoy_listener_downstream_cx_total{', '0.0.0.0_15006'));
    const tls = statSum(clientStats, 'ssl_versions{', 'outbound|8080||checkout-');
    console.log(
      `[shop] TLS handshakes: client sidecar originated ${originated} (${[...clientStats]
        .filter(([k, v]) => k.includes('ssl_versions{') && v > 0)
        .map(([k]) => /envoy_ssl_version="([^"]+)"/.exec(k)?.[1])
        .join(', ')}), backends terminated ${terminated.join('/')} of ${connections.join('/')} inbound connections`,
    );
    expect(originated).toBeGreaterThan(0);
    expect(tls).toBe(originated);
    for (const [i, t] of terminated.entries()) {
      expect(t).toBeGreaterThan(0);
      expect(t).toBeLessThanOrEqual(connections[i] ?? 0);
    }
    for (const a of inbound) expect(statSum(a, 'envoy_listener_no_filter_chain_match{', '0.0.0.0_15006')).toBe(0);
    expect(statSum(clientStats, 'ssl_connection_error{', 'outbound|8080||checkout-')).toBe(0);
  }, 180_000);

  it('prints Pod create -> Ready for an injected and a plain Pod', async () => {
    const timings: string[] = [];
    for (const round of [1, 2]) {
      for (const [ns, kind] of [
        [plain.name, 'plain'],
        [SHOP, 'injected'],
      ] as const) {
        const name = `timing-${kind}-${round}`;
        const t0 = Date.now();
        await napply(checkoutPod(name), ns);
        await waitPodReady(ns, name);
        timings.push(`${kind} ${Date.now() - t0} ms`);
        await nk(['-n', ns, 'delete', 'pod', name, '--wait=false']);
      }
    }
    console.log(`[shop] Pod create -> Ready (kubectl apply to kubectl wait): ${timings.join(', ')}`);
  }, 240_000);

  it('STRICT refuses a plaintext Pod in an unlabelled namespace; PERMISSIVE lets it in', async () => {
    await napply(checkoutPod('outsider'), plain.name);
    await waitPodReady(plain.name, 'outsider');
    expect((await nkJson<PodInfo>(['-n', plain.name, 'get', 'pod', 'outsider'])).spec.initContainers).toBeUndefined();
    const from = { namespace: plain.name, pod: 'outsider', rate: 50, concurrency: 2, timeoutMs: 3000 };
    const refused = await load(20, from);
    console.log(`[shop] plaintext Pod under STRICT: ${JSON.stringify(refused.errors)}`);
    expect(refused.ok).toEqual({});

    await nk(['-n', SHOP, 'patch', 'peerauth', 'default', '--type=merge', '-p', '{"spec":{"mtls":{"mode":"PERMISSIVE"}}}']);
    await eventually(() => load(20, from), { until: (s) => failures(s) === 0, what: 'the plaintext Pod served under PERMISSIVE', timeoutMs: 30_000 });
    await nk(['-n', SHOP, 'patch', 'peerauth', 'default', '--type=merge', '-p', '{"spec":{"mtls":{"mode":"STRICT"}}}']);
    await eventually(() => load(20, from), { until: (s) => Object.keys(s.ok).length === 0, what: 'the plaintext Pod refused again', timeoutMs: 30_000 });
  }, 180_000);

  it('a RetryPolicy lifts a checkout failing 30 % of requests to >= 99 %', async () => {
    const policy = await nk(['-n', SHOP, 'get', 'retrypolicy', 'checkout', '-o', 'yaml']);
    await setFailPercent(30);
    try {
      await nk(['-n', SHOP, 'delete', 'retrypolicy', 'checkout']);
      const without = await eventually(() => load(300, { rate: 200 }), { until: (s) => failures(s) > 45, what: 'failures without retries', timeoutMs: 30_000 });
      await nk(['-n', SHOP, 'apply', '-f', '-'], { input: policy.stdout.replace(/\n {2}(resourceVersion|uid|creationTimestamp|generation):.*$/gm, '') });
      const withRetries = await eventually(() => load(1000, { rate: 200 }), { until: (s) => failures(s) <= 10, what: 'retries in effect', timeoutMs: 60_000 });
      console.log(
        `[shop] 30 % failing: without RetryPolicy ${pct(1 - failures(without) / without.requests)} succeed, with it ${pct(1 - failures(withRetries) / withRetries.requests)} (${JSON.stringify(withRetries.errors)})`,
      );
      expect(1 - failures(withRetries) / withRetries.requests).toBeGreaterThanOrEqual(0.99);
    } finally {
      await setFailPercent(0);
    }
  }, 180_000);

  it('a rolling update of checkout-v1 under continuous traffic fails no request', async () => {
    const client = (await pods(SHOP, 'app=client'))[0] as PodInfo;
    const retries = async () => statSum(await envoyStats(client.status.podIP ?? ''), 'upstream_rq_retry{', 'checkout');
    const retriesBefore = await retries();
    const traffic = await startLoad({ rate: 50, concurrency: 4 });
    await sleep(2000);
    const t0 = Date.now();
    await nk(['-n', SHOP, 'rollout', 'restart', 'deployment/checkout-v1']);
    await nk(['-n', SHOP, 'rollout', 'status', 'deployment/checkout-v1', '--timeout=180s'], { timeoutMs: 200_000 });
    const rolled = Date.now() - t0;
    // The last old Pod has left the endpoints but serves on through its preStop sleep: keep
    // the traffic running until it is gone.
    await eventually(() => pods(SHOP, 'app=checkout,version=v1', { terminating: true }), {
      until: (l) => l.length === 2,
      what: 'old Pods gone',
      timeoutMs: 60_000,
    });
    const gone = Date.now() - t0;
    await sleep(1000);
    const s = await traffic.stop();
    const retried = (await retries()) - retriesBefore;
    console.log(
      `[shop] rolling update of checkout-v1 (2 Pods): rolled out in ${rolled} ms, old Pods gone after ${gone} ms; ${s.requests} requests over ${s.seconds} s, errors ${JSON.stringify(s.errors)} ${JSON.stringify(s.firstErrors)}, retries by the client sidecar ${retried}`,
    );
    expect(failures(s)).toBe(0);
    expect(s.ok.v1).toBeGreaterThan(0);
  }, 300_000);

  it('control plane scaled to 0 while a Pod starts: no app restarts, 0 failed requests, a split edit applies when it returns', async () => {
    // Admitted (injected) now, started only once the gate is removed: with the webhook's
    // failurePolicy Fail nothing could be injected while the controller is away.
    await napply(checkoutPod('late', { labels: { app: 'late' }, schedulingGates: ['weft.dev/e2e-hold'] }), SHOP);
    const traffic = await startLoad({ rate: 50, concurrency: 4 });
    const running = await pods(SHOP, 'app in (checkout, client)');
    await nk(['-n', rel.namespace, 'scale', `deployment/${rel.fullname}`, '--replicas=0']);
    await eventually(() => rel.pods(), { until: (l) => l.length === 0, what: 'controller Pods gone', timeoutMs: 90_000 });
    const down = Date.now();
    await nk(['-n', SHOP, 'patch', 'pod', 'late', '--type=json', '-p', '[{"op":"remove","path":"/spec/schedulingGates"}]']);
    // The edit is stored (the validating webhook fails open) but nothing programs it yet.
    await nk([
      '-n',
      SHOP,
      'patch',
      'trafficsplit',
      'checkout',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/backends/0/weight","value":50},{"op":"replace","path":"/spec/backends/1/weight","value":50}]',
    ]);
    // Longer than the late app's liveness budget (2 x 2 s) and the sidecar's initial fetches (2 x 5 s).
    await sleep(20_000);
    const late = await nkJson<PodInfo>(['-n', SHOP, 'get', 'pod', 'late']);
    expect(statusOf(late, 'weft-init')?.state.terminated?.exitCode).toBe(0);
    expect(statusOf(late, 'weft-proxy')).toMatchObject({ started: false, restartCount: 0 });
    expect(statusOf(late, 'app')?.state.waiting?.reason).toBe('PodInitializing');
    const during = await load(400, { rate: 200 });
    expect(failures(during)).toBe(0);
    expect(Math.abs(share(during, 'v2') - 0.1)).toBeLessThanOrEqual(0.06); // still 90/10

    const upAt = Date.now();
    await nk(['-n', rel.namespace, 'scale', `deployment/${rel.fullname}`, '--replicas=2']);
    await rel.waitReady();
    const back = Date.now();
    await waitPodReady(SHOP, 'late', 120_000);
    const lateReady = Date.now();
    // The app was held until its sidecar had config: it started after the controller came back
    // (container start times have whole seconds).
    const appStarted = Date.parse(statusOf(await nkJson<PodInfo>(['-n', SHOP, 'get', 'pod', 'late']), 'app')?.state.running?.startedAt ?? '');
    expect(appStarted).toBeGreaterThanOrEqual(Math.floor(upAt / 1000) * 1000);
    const after = await eventually(() => load(600, { rate: 200 }), {
      until: (s) => Math.abs(share(s, 'v2') - 0.5) <= 0.08,
      what: 'the 50/50 split',
      timeoutMs: 60_000,
    });
    const s = await traffic.stop();
    console.log(
      `[shop] control plane away ${Math.round((back - down) / 1000)} s: ${s.requests} requests over ${s.seconds} s, errors ${JSON.stringify(s.errors)}; split during ${pct(share(during, 'v2'))} v2, after ${pct(share(after, 'v2'))} v2; late Pod Ready ${lateReady - back} ms after the controller`,
    );
    expect(failures(s)).toBe(0);
    for (const p of running) {
      const now = await nkJson<PodInfo>(['-n', SHOP, 'get', 'pod', p.metadata.name]);
      expect(restarts(now)).toBe(0);
    }
    expect(restarts(await nkJson<PodInfo>(['-n', SHOP, 'get', 'pod', 'late']))).toBe(0);
    await nk([
      '-n',
      SHOP,
      'patch',
      'trafficsplit',
      'checkout',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/backends/0/weight","value":90},{"op":"replace","path":"/spec/backends/1/weight","value":10}]',
    ]);
  }, 400_000);
});
