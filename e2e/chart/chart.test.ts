// helm install / upgrade / uninstall of charts/weft against the real API server of the
// harness. External mode: no kubelet runs Pods here, so the control plane cannot run in
// the cluster; the webhooks call a URL instead — here a recording HTTPS stub — exactly
// as they call the local `weft controller` in the dev harness.
//
// The cluster is shared: the release gets a unique name and namespace, and its webhooks
// are confined to namespaces carrying this release's label (webhooks.namespaceSelector),
// so no one else's Pods or CRs are intercepted while it is installed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply, eventually, helm, kubectl, kubectlJson, repoRoot, tempNamespace, toYaml, uniqueName, waitFor } from '../support/kube.ts';
import { POLICY_KINDS } from '../../src/api/objects.ts';
import { Resources } from '../../src/k8s/resources.ts';
import { STUB_ANNOTATION, startWebhookStub, type WebhookStub } from './webhook-stub.ts';

const chart = join(repoRoot, 'charts/weft');
const CRDS = POLICY_KINDS.map((k) => `${Resources[k].plural}.${Resources[k].group}`);
// Contains "weft", so the chart's fullname (and the ServiceAccount) is the release name.
const release = uniqueName('weft-chart');
const confine = { 'weft.dev/e2e-release': release };

let ns = '';
let appNs = ''; // opted in: inject label + this release's label
let otherNs = ''; // inject label only: another release's business
let stub: WebhookStub;

function valuesFile(extra: Record<string, unknown> = {}): string {
  const values = {
    controlPlane: { external: { enabled: true, webhookUrl: stub.url, caBundle: stub.caPem } },
    webhooks: { namespaceSelector: { matchLabels: confine } },
    ...extra,
  };
  const file = join(mkdtempSync(join(tmpdir(), 'weft-values-')), 'values.yaml');
  writeFileSync(file, toYaml(values));
  return file;
}

/** Release-owned objects: [kind, name, namespace?]. */
const owned = (): [string, string, string?][] => [
  ['serviceaccount', release, ns],
  ['role', release, ns],
  ['rolebinding', release, ns],
  ['configmap', `${release}-inject-values`, ns],
  ['clusterrole', release],
  ['clusterrolebinding', release],
  ['mutatingwebhookconfiguration', `${release}-inject`],
  ['validatingwebhookconfiguration', `${release}-validate`],
];
const exists = async ([kind, name, namespace]: [string, string, string?]) =>
  (await kubectl(['get', kind, name, ...(namespace ? ['-n', namespace] : [])], { allowFailure: true })).code === 0;

beforeAll(async () => {
  stub = await startWebhookStub();
  ns = await tempNamespace('weft-chart-sys');
  appNs = await tempNamespace('weft-chart-app', { 'weft.dev/inject': 'enabled', ...confine });
  otherNs = await tempNamespace('weft-chart-other', { 'weft.dev/inject': 'enabled' });
}, 900_000); // may start the cluster (e2e/cluster/up.sh)

afterAll(async () => {
  // Only if a test failed before the uninstall test: never leave cluster-wide webhooks behind.
  await helm(['uninstall', release, '-n', ns, '--ignore-not-found', '--wait'], { allowFailure: true });
  await stub?.close();
});

// Tests in a file run in order: each step builds on the previous one.
describe('charts/weft on a real API server', () => {
  it('installs in external mode; the CRDs are Established', async () => {
    await helm(['install', release, chart, '-n', ns, '-f', valuesFile()]);
    const status = JSON.parse((await helm(['status', release, '-n', ns, '-o', 'json'])).stdout) as { info: { status: string } };
    expect(status.info.status).toBe('deployed');
    for (const crd of CRDS) await waitFor('condition=Established', `crd/${crd}`);
    for (const o of owned()) expect(await exists(o), o.join(' ')).toBe(true);
    // External mode: nothing that would need a kubelet.
    const workloads = await kubectlJson<{ items: unknown[] }>(['get', 'deployments,services,poddisruptionbudgets', '-n', ns]);
    expect(workloads.items).toEqual([]);
  });

  it('calls the webhook URL for opted-in namespaces only, and applies its patch', async () => {
    const pod = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { containers: [{ name: 'app', image: 'example.invalid/app:1' }] },
    });
    // Admission needs the namespace's default ServiceAccount, created asynchronously.
    for (const n of [appNs, otherNs]) await eventually(() => kubectl(['get', 'serviceaccount', 'default', '-n', n]), { what: `default SA in ${n}` });
    await apply(pod('meshed'), { namespace: appNs });
    await apply(pod('elsewhere'), { namespace: otherNs });
    const annotations = async (n: string, name: string) =>
      (await kubectlJson<{ metadata: { annotations?: Record<string, string> } }>(['get', 'pod', name, '-n', n])).metadata.annotations ?? {};
    expect((await annotations(appNs, 'meshed'))[STUB_ANNOTATION]).toBe('seen');
    expect((await annotations(otherNs, 'elsewhere'))[STUB_ANNOTATION]).toBeUndefined();
    expect(stub.seen.filter((a) => a.path === '/inject').map((a) => a.namespace)).toEqual([appNs]);
  });

  it('validates CRs through /validate and prints useful columns', async () => {
    await apply(
      [
        {
          apiVersion: 'mesh.weft.dev/v1alpha1',
          kind: 'TrafficSplit',
          metadata: { name: 'checkout' },
          spec: {
            service: 'checkout',
            backends: [
              { service: 'checkout-v1', weight: 90 },
              { service: 'checkout-v2', weight: 10 },
            ],
            matches: [{ path: { value: '/api' } }],
          },
        },
        {
          apiVersion: 'mesh.weft.dev/v1alpha1',
          kind: 'RetryPolicy',
          metadata: { name: 'inventory' },
          spec: { targetRef: { kind: 'Service', name: 'inventory' }, attempts: 3, perTryTimeout: '5s', timeout: '15s' },
        },
        {
          apiVersion: 'mesh.weft.dev/v1alpha1',
          kind: 'PeerAuth',
          metadata: { name: 'payments' },
          spec: { selector: { matchLabels: { app: 'payments' } }, mtls: { mode: 'STRICT' } },
        },
      ],
      { namespace: appNs },
    );
    expect(
      stub.seen
        .filter((a) => a.path === '/validate')
        .map((a) => a.kind)
        .sort(),
    ).toEqual(['PeerAuth', 'RetryPolicy', 'TrafficSplit']);
    // Conditions as the controller writes them, through the status subresource.
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const cond = (type: string, message: string) => ({ type, status: 'True', reason: type, message, lastTransitionTime: now, observedGeneration: 1 });
    // status.summary: the readable line the controller's model writes for the printer columns.
    const summaries: Record<string, string> = {
      'trafficsplit/checkout': 'checkout-v1 90%, checkout-v2 10%; 1 match',
      'retrypolicy/inventory': '5xx, reset',
      'peerauth/payments': 'app=payments',
    };
    for (const [r, summary] of Object.entries(summaries)) {
      const status = { status: { observedGeneration: 1, summary, conditions: [cond('Accepted', 'valid'), cond('Programmed', '3/3 proxies ACKed')] } };
      await kubectl(['patch', r, '-n', appNs, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    }
    const ts = (await kubectl(['get', 'ts', '-n', appNs, '-o', 'wide'])).stdout;
    console.log(ts);
    expect(ts).toMatch(/^NAME\s+SERVICE\s+BACKENDS\s+ACCEPTED\s+PROGRAMMED\s+AGE\s+PROXIES/);
    expect(ts).not.toMatch(/[[{]"/); // no column prints raw JSON
    expect(ts).toMatch(/checkout\s+checkout\s+checkout-v1 90%, checkout-v2 10%; 1 match\s+True\s+True\s+\S+\s+3\/3 proxies ACKed/);
    const rp = (await kubectl(['get', 'rp', '-n', appNs])).stdout;
    console.log(rp);
    expect(rp).toMatch(/^NAME\s+TARGET\s+ATTEMPTS\s+TIMEOUT\s+ACCEPTED\s+PROGRAMMED\s+AGE/);
    expect(rp).toMatch(/inventory\s+inventory\s+3\s+15s\s+True\s+True/);
    const pa = (await kubectl(['get', 'pa', '-n', appNs])).stdout;
    console.log(pa);
    expect(pa).toMatch(/^NAME\s+MODE\s+ACCEPTED\s+AGE/);
    expect(pa).toMatch(/payments\s+STRICT\s+True/);
    // The category lists all three kinds at once.
    expect((await kubectl(['get', 'weft', '-n', appNs, '-o', 'name'])).stdout.trim().split('\n').sort()).toEqual([
      'peerauth.mesh.weft.dev/payments',
      'retrypolicy.mesh.weft.dev/inventory',
      'trafficsplit.mesh.weft.dev/checkout',
    ]);
  });

  it('upgrades with changed values', async () => {
    const extra = {
      webhooks: { namespaceSelector: { matchLabels: confine }, timeoutSeconds: 5, inject: { failurePolicy: 'Ignore' } },
      controller: { leaderElection: { leaseName: 'weft-lease-2' } },
      injection: { proxyLogLevel: 'debug' },
    };
    await helm(['upgrade', release, chart, '-n', ns, '-f', valuesFile(extra)]);
    const hook = await kubectlJson<{ webhooks: { timeoutSeconds: number; failurePolicy: string }[] }>([
      'get',
      'mutatingwebhookconfiguration',
      `${release}-inject`,
    ]);
    expect(hook.webhooks[0]).toMatchObject({ timeoutSeconds: 5, failurePolicy: 'Ignore' });
    // External mode renders no Deployment; the notes name the leader Lease to clean up after uninstall.
    expect((await helm(['get', 'notes', release, '-n', ns])).stdout).toContain('lease/weft-lease-2');
    const cm = await kubectlJson<{ data: Record<string, string> }>(['get', 'configmap', `${release}-inject-values`, '-n', ns]);
    expect(JSON.parse(cm.data['values.json'] ?? '{}')).toMatchObject({ proxyLogLevel: 'debug' });
    const history = JSON.parse((await helm(['history', release, '-n', ns, '-o', 'json'])).stdout) as { revision: number; status: string }[];
    expect(history.at(-1)).toMatchObject({ revision: 2, status: 'deployed' });
  });

  it('uninstalls everything but the CRDs (Helm never deletes CRDs, so CRs survive)', async () => {
    // Helm's CRD policy: crds/ is applied on first install only, never upgraded or deleted,
    // because deleting a CRD deletes every object of its kind cluster-wide.
    await helm(['uninstall', release, '-n', ns, '--wait']);
    for (const o of owned()) expect(await exists(o), `${o.join(' ')} still exists`).toBe(false);
    for (const crd of CRDS) expect(await exists(['crd', crd]), crd).toBe(true);
    expect(await exists(['trafficsplit', 'checkout', appNs])).toBe(true);
  });
});
