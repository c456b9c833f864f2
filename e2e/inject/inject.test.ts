// Sidecar injection through the real API server: charts/weft in external mode (webhooks by
// URL to 127.0.0.1), `weft controller` as a child process with the chart ServiceAccount's
// token (its CA in a Secret, TLS xDS, the webhook, the leader keeping caBundle current).
// Pods are created through the API; the API server calls the controller's webhook; what is
// stored is what we check. That an injected Pod then runs (the kubelet's token, the
// certificate over SDS, traffic) is proved on the real node: e2e/pods/shop.test.ts.
import { X509Certificate } from 'node:crypto';
import { HttpMethod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/k8s/client.ts';
import { TOKEN_PATH } from '../../webhook/values.ts';
import { forbiddenLines, forbiddenSeries } from '../controller/support/controller-process.ts';
import { apply, eventually, kubeConfig, kubectl, kubectlJson, tempNamespace } from '../support/kube.ts';
import { caBundles, histogramBuckets, histogramQuantile, installAndRun, percentile, waitUntilInjecting, type InjectEnv } from './support.ts';

interface Container {
  name: string;
  restartPolicy?: string;
  args?: string[];
  ports?: { containerPort: number }[];
}
interface PodJson {
  metadata: { name: string; uid: string; annotations?: Record<string, string> };
  spec: {
    initContainers?: Container[];
    containers: Container[];
    volumes?: { name: string; projected?: { sources: { serviceAccountToken?: { audience: string; path: string } }[] } }[];
  };
}

let env: InjectEnv;
let admin: KubeClient;
let meshed = ''; // weft.dev/inject=enabled + this release's label
let plain = ''; // this release's label only
const kubeSystemLabels = () => ({ 'weft.dev/inject': 'enabled', ...env.confine });

const pod = (name: string, extra: { annotations?: Record<string, string>; hostNetwork?: boolean; sa?: string; labels?: Record<string, string> } = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, ...(extra.annotations ? { annotations: extra.annotations } : {}), ...(extra.labels ? { labels: extra.labels } : {}) },
  spec: {
    ...(extra.hostNetwork ? { hostNetwork: true } : {}),
    ...(extra.sa ? { serviceAccountName: extra.sa } : {}),
    containers: [{ name: 'app', image: 'weft.test/app:1', ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { path: '/ready', port: 8080 } } }],
  },
});
const get = (ns: string, name: string) => kubectlJson<PodJson>(['get', 'pod', name, '-n', ns]);
const names = (cs: Container[] | undefined) => (cs ?? []).map((c) => c.name);
// This API server (>= 1.29) gets native sidecars: weft-proxy is an init container.
const proxyOf = (p: PodJson) => p.spec.initContainers?.find((c) => c.name === 'weft-proxy');
const logLines = (pred: (l: Record<string, unknown>) => boolean) =>
  env.ctl
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter(pred);

beforeAll(async () => {
  env = await installAndRun('weft-inj');
  admin = new KubeClient(await kubeConfig());
  meshed = await tempNamespace('weft-inj-app', { 'weft.dev/inject': 'enabled', ...env.confine });
  plain = await tempNamespace('weft-inj-plain', env.confine);
  // The leader writes the mesh CA's bundle into both configurations (the chart rendered none).
  await eventually(
    async () => [...(await caBundles('mutatingwebhookconfiguration', env.mutating)), ...(await caBundles('validatingwebhookconfiguration', env.validating))],
    {
      until: (b) => b.length === 2 && b.every((x) => x !== ''),
      what: 'caBundle written by the leader',
      timeoutMs: 30_000,
    },
  );
  await waitUntilInjecting(meshed);
  await eventually(() => kubectl(['get', 'serviceaccount', 'default', '-n', plain]), { what: 'default SA', timeoutMs: 60_000 });
}, 600_000);

afterAll(async () => {
  await kubectl(['label', 'namespace', 'kube-system', ...Object.keys(kubeSystemLabels()).map((k) => `${k}-`)], { allowFailure: true });
  await kubectl(['delete', 'pod', `${env?.release}-probe`, '-n', 'kube-system', '--grace-period=0', '--force', '--ignore-not-found'], { allowFailure: true });
  await env?.close();
});

describe('injection through the real API server', () => {
  it('injects a Pod in a labeled namespace: init container, sidecar, projected token, bootstrap with the trust bundle', async () => {
    await apply(pod('web-0'), { namespace: meshed });
    const p = await get(meshed, 'web-0');
    expect(names(p.spec.initContainers)).toEqual(['weft-init', 'weft-proxy']);
    expect(proxyOf(p)?.restartPolicy).toBe('Always');
    expect(names(p.spec.containers)).toEqual(['app']);
    const token = p.spec.volumes?.find((v) => v.name === 'weft-token')?.projected?.sources[0]?.serviceAccountToken;
    expect(token).toMatchObject({ audience: 'weft', path: 'token' });
    const args = proxyOf(p)?.args ?? [];
    const bootstrap = args[args.indexOf('--config-yaml') + 1] ?? '';
    expect(bootstrap).toContain(TOKEN_PATH);
    const ca = (await kubectlJson<{ data: Record<string, string> }>(['get', 'secret', 'weft-root-ca', '-n', env.cpNs])).data['tls.crt'] ?? '';
    const rootPem = Buffer.from(ca, 'base64').toString();
    expect(JSON.stringify(JSON.parse(bootstrap))).toContain(new X509Certificate(rootPem).toString().split('\n')[1]);
    expect(p.metadata.annotations?.['weft.dev/status']).toBeDefined();
    // The shape came from the API server's version, read once at start.
    expect(logLines((l) => l.msg === 'sidecar injection shape')).toEqual([
      expect.objectContaining({ sidecarShape: 'native', serverVersion: expect.stringMatching(/^v1\.(29|[3-9]\d)\./) }),
    ]);
    // The API server called our webhook for it (not a stub): the controller logged the injection.
    expect(logLines((l) => l.msg === 'pod injected' && l.namespace === meshed && l.name === 'web-0')).toHaveLength(1);
  });

  it('leaves alone: an unlabeled namespace (not even called), an opted-out Pod (annotation; label: not even called), a hostNetwork Pod', async () => {
    await apply(pod('plain'), { namespace: plain });
    await apply(pod('opted-out', { annotations: { 'weft.dev/inject': 'false' } }), { namespace: meshed });
    await apply(pod('opted-out-label', { labels: { 'weft.dev/inject': 'false' } }), { namespace: meshed });
    await apply(pod('host', { hostNetwork: true }), { namespace: meshed });
    for (const [ns, name] of [
      [plain, 'plain'],
      [meshed, 'opted-out'],
      [meshed, 'opted-out-label'],
      [meshed, 'host'],
    ] as const) {
      const p = await get(ns, name);
      expect(names(p.spec.containers), name).toEqual(['app']);
      expect(names(p.spec.initContainers), name).toEqual([]);
    }
    expect(logLines((l) => l.namespace === plain && typeof l.uid === 'string')).toEqual([]);
    // The chart's objectSelector keeps the labelled Pod away from the webhook altogether.
    expect(logLines((l) => l.namespace === meshed && l.name === 'opted-out-label')).toEqual([]);
    const skips = logLines((l) => l.msg === 'injection skipped' && l.namespace === meshed).map((l) => [l.name, l.reason]);
    expect(skips).toEqual(
      expect.arrayContaining([
        ['opted-out', 'opted-out'],
        ['host', 'host-network'],
      ]),
    );
  });

  it('cannot be dodged silently: a forged status is injected over, a container named weft-proxy and an app at uid 1337 are denied with the reason', async () => {
    await apply(pod('forged-status', { annotations: { 'weft.dev/status': '{"version":"0","containers":["weft-proxy"]}' } }), { namespace: meshed });
    const forged = await get(meshed, 'forged-status');
    expect(names(forged.spec.initContainers)).toEqual(['weft-init', 'weft-proxy']);
    expect(JSON.parse(forged.metadata.annotations?.['weft.dev/status'] ?? '{}')).toMatchObject({ initContainers: ['weft-init', 'weft-proxy'] });

    const own = pod('own-proxy') as { spec: { containers: Record<string, unknown>[] } };
    own.spec.containers.push({ name: 'weft-proxy', image: 'weft.test/not-envoy:1' });
    const r1 = await apply(own, { namespace: meshed, allowFailure: true });
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toMatch(/denied the request: weft: container weft-proxy is not the sidecar this webhook injects/);

    const root = pod('uid-1337') as { spec: Record<string, unknown> };
    root.spec.securityContext = { runAsUser: 1337 };
    const r2 = await apply(root, { namespace: meshed, allowFailure: true });
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toMatch(/denied the request: weft: container app runs as uid 1337, the sidecar's/);
  });

  it('never intercepts kube-system: its configuration excludes it even when it carries every label the selector asks for', async () => {
    const live = await kubectlJson<{ webhooks: { namespaceSelector: { matchExpressions: { key: string; operator: string; values: string[] }[] } }[] }>([
      'get',
      'mutatingwebhookconfiguration',
      env.mutating,
    ]);
    const notIn = live.webhooks[0]?.namespaceSelector.matchExpressions.find((e) => e.key === 'kubernetes.io/metadata.name' && e.operator === 'NotIn');
    expect(notIn?.values).toEqual(expect.arrayContaining(['kube-system', 'kube-public', 'kube-node-lease', env.cpNs]));
    // Give kube-system our labels (only this release's webhooks select them), then create a Pod there.
    await kubectl(['label', 'namespace', 'kube-system', '--overwrite', ...Object.entries(kubeSystemLabels()).map(([k, v]) => `${k}=${v}`)]);
    await apply(pod(`${env.release}-probe`), { namespace: 'kube-system' });
    const p = await get('kube-system', `${env.release}-probe`);
    expect(names(p.spec.containers)).toEqual(['app']);
    expect(logLines((l) => l.namespace === 'kube-system')).toEqual([]);
  });

  it('answers a server-side dry-run with the injected Pod and leaves nothing behind', async () => {
    const r = await kubectl(['create', '--dry-run=server', '-n', meshed, '-f', '-', '-o', 'json'], { input: JSON.stringify(pod('dry')) });
    const p = JSON.parse(r.stdout) as PodJson;
    expect(names(p.spec.initContainers)).toEqual(['weft-init', 'weft-proxy']);
    expect(logLines((l) => l.msg === 'pod injected' && l.name === 'dry' && l.dryRun === true).length).toBeGreaterThan(0);
    expect((await kubectl(['get', 'pod', 'dry', '-n', meshed], { allowFailure: true })).code).not.toBe(0);
    // The webhook creates nothing: no Secret, ConfigMap or other object per Pod.
    const objs = await kubectlJson<{ items: { metadata: { name: string } }[] }>(['get', 'secrets,configmaps', '-n', meshed]);
    expect(objs.items.map((o) => o.metadata.name).filter((n) => n.includes('dry'))).toEqual([]);
  });

  it('restores a blanked caBundle within seconds (the leader watches both configurations)', async () => {
    const [want] = await caBundles('mutatingwebhookconfiguration', env.mutating);
    const times: string[] = [];
    for (const [kind, name] of [
      ['mutatingwebhookconfiguration', env.mutating],
      ['validatingwebhookconfiguration', env.validating],
    ] as const) {
      const t0 = performance.now();
      await kubectl(['patch', kind, name, '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/webhooks/0/clientConfig/caBundle', value: '' }])]);
      await eventually(() => caBundles(kind, name), { until: (b) => b[0] === want, what: `${kind} caBundle restored`, timeoutMs: 15_000, intervalMs: 100 });
      times.push(`${kind} ${(performance.now() - t0).toFixed(0)} ms`);
      expect(performance.now() - t0).toBeLessThan(12_000);
    }
    console.log(`caBundle restored after being blanked: ${times.join(', ')}`);
    // And injection works again with it.
    await waitUntilInjecting(meshed);
  });

  it('validates Weft CRs through the model: RE2-incompatible regex denied, a missing backend admitted with a warning', async () => {
    const ts = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'TrafficSplit', metadata: { name }, spec });
    const denied = await apply(
      ts('lookahead', { service: 'web', backends: [{ service: 'web', weight: 1 }], matches: [{ path: { type: 'RegularExpression', value: '/(?!admin).*' } }] }),
      {
        namespace: meshed,
        allowFailure: true,
      },
    );
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/denied the request: weft: spec\.matches\[0\]\.path\.value: lookaround assertions are not supported by RE2/);
    const big = await apply(
      ts('session', {
        service: 'web',
        backends: [{ service: 'web', weight: 1 }],
        matches: [{ headers: [{ name: 'x-session', type: 'RegularExpression', value: '^[0-9a-f]{64}$' }] }],
      }),
      { namespace: meshed, allowFailure: true },
    );
    expect(big.code).not.toBe(0);
    expect(big.stderr).toMatch(/its RE2 program size is 130, over Envoy's limit of 100/);
    const warned = await apply(ts('canary', { service: 'web', backends: [{ service: 'web-v9', weight: 1 }] }), { namespace: meshed });
    expect(warned.stderr).toContain('Warning: weft: Service ');
    expect(warned.stderr).toContain(`${meshed}/web-v9`);
  });

  it('measures injection latency through the API server (50 Pods)', async () => {
    const N = 50;
    const createAll = async (ns: string, prefix: string): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < N; i++) {
        const t0 = performance.now();
        await admin.request(HttpMethod.POST, `/api/v1/namespaces/${ns}/pods`, { body: pod(`${prefix}-${i}`) });
        out.push(performance.now() - t0);
      }
      return out;
    };
    const metric = 'weft_webhook_admission_duration_seconds';
    // The API server's own view of each call to the webhook (TLS, network, our answer).
    const apiMetric = 'apiserver_admission_webhook_admission_duration_seconds';
    const apiLabels = 'name="inject.weft.dev",operation="CREATE",rejected="false",type="admit"';
    const apiMetrics = async () => (await kubectl(['get', '--raw', '/metrics'])).stdout;
    const [before, apiBefore] = [
      histogramBuckets(await env.ctl.metrics(), metric, 'endpoint="inject"'),
      histogramBuckets(await apiMetrics(), apiMetric, apiLabels),
    ];
    const injected = await createAll(meshed, 'lat');
    const [after, apiAfter] = [
      histogramBuckets(await env.ctl.metrics(), metric, 'endpoint="inject"'),
      histogramBuckets(await apiMetrics(), apiMetric, apiLabels),
    ];
    const baseline = await createAll(plain, 'base');
    const server50 = histogramQuantile(before, after, 0.5);
    const server99 = histogramQuantile(before, after, 0.99);
    const ms = (x: number) => x.toFixed(1);
    console.log(
      `injection latency over ${N} Pods — webhook (controller histogram, interpolated): p50 ${ms(server50.value * 1000)} ms, p99 ${ms(server99.value * 1000)} ms; ` +
        `Pod create through the API server: injected p50 ${ms(percentile(injected, 0.5))} ms, p99 ${ms(percentile(injected, 0.99))} ms; ` +
        `not intercepted p50 ${ms(percentile(baseline, 0.5))} ms, p99 ${ms(percentile(baseline, 0.99))} ms`,
    );
    const api50 = histogramQuantile(apiBefore, apiAfter, 0.5);
    const api99 = histogramQuantile(apiBefore, apiAfter, 0.99);
    // Its buckets are coarse (5 ms, 25 ms, 100 ms, ...): an upper bound more than a measurement.
    console.log(
      `API server's webhook call histogram (${api50.count} calls, interpolated in 5/25/100 ms buckets): p50 ${ms(api50.value * 1000)} ms, p99 ${ms(api99.value * 1000)} ms`,
    );
    // reinvocationPolicy IfNeeded: the API server may call again after later mutations; the
    // second call finds the sidecar and changes nothing (idempotent).
    const lat = (msg: string) => logLines((l) => l.msg === msg && l.namespace === meshed && String(l.name).startsWith('lat-'));
    const reinvoked = lat('injection skipped').filter((l) => l.reason === 'already-injected').length;
    console.log(`webhook calls: ${server50.count} for ${N} Pods (${lat('pod injected').length} injections, ${reinvoked} re-invocations that changed nothing)`);
    expect(lat('pod injected')).toHaveLength(N);
    expect(server50.count).toBe(N + reinvoked);
    const stored = await kubectlJson<{ items: PodJson[] }>(['get', 'pods', '-n', meshed]);
    expect(stored.items.filter((p) => p.metadata.name.startsWith('lat-') && proxyOf(p) !== undefined)).toHaveLength(N);
    expect(percentile(injected, 0.5)).toBeLessThan(1000);
  }, 120_000);

  it('was never answered 403 (the chart RBAC covers the CA Secret, JWKS and both configurations)', async () => {
    expect(forbiddenSeries(await env.ctl.metrics())).toEqual([]);
    expect(forbiddenLines(env.ctl.output())).toEqual([]);
    expect((await fetch(`${env.ctl.monitoringUrl}/readyz`)).status).toBe(200);
  });
});
