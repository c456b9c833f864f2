// The chart's default (in-cluster) mode against the real API server. No kubelet and no
// scheduler run in the harness, so the controller Pods are created by the ReplicaSet
// controller but never scheduled: this proves the objects are accepted and wired
// (Deployment, Services, PDB selecting the same Pods), not that they run (e2e/pods/
// controller.test.ts runs them on the real node). Webhooks are
// confined to this release's namespace label, so the shared cluster is never intercepted.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MeshPorts } from '../../src/base/mesh-ports.ts';
import { eventually, helm, kubectl, kubectlJson, repoRoot, tempNamespace, uniqueName } from '../support/kube.ts';

const chart = join(repoRoot, 'charts/weft');
const release = uniqueName('weft-incluster');
const confine = ['--set', `webhooks.namespaceSelector.matchLabels.weft\\.dev/e2e-release=${release}`];
let ns = '';

interface Labeled {
  metadata: { name: string; labels?: Record<string, string> };
}

beforeAll(async () => {
  ns = await tempNamespace('weft-incluster');
}, 900_000); // may start the cluster (e2e/cluster/up.sh)
afterAll(async () => {
  await helm(['uninstall', release, '-n', ns, '--ignore-not-found'], { allowFailure: true });
});

it('installs a 2-replica Deployment, its PDB and the three Services, all selecting the same Pods', async () => {
  await helm(['install', release, chart, '-n', ns, ...confine]);
  const deploy = await kubectlJson<{ spec: { replicas: number; selector: { matchLabels: Record<string, string> } } }>(['get', 'deployment', release, '-n', ns]);
  expect(deploy.spec.replicas).toBe(2);
  const selector = deploy.spec.selector.matchLabels;
  const pdb = await kubectlJson<{ spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }>(['get', 'pdb', release, '-n', ns]);
  expect(pdb.spec).toMatchObject({ minAvailable: 1, selector: { matchLabels: selector } });
  const services = await kubectlJson<{ items: { metadata: { name: string }; spec: { selector: Record<string, string>; ports: { port: number }[] } }[] }>([
    'get',
    'services',
    '-n',
    ns,
  ]);
  expect(Object.fromEntries(services.items.map((s) => [s.metadata.name, s.spec.ports.map((p) => p.port)]))).toEqual({
    [release]: [MeshPorts.xdsTls],
    [`${release}-webhook`]: [443],
    [`${release}-metrics`]: [MeshPorts.monitoring],
  });
  for (const s of services.items) expect(s.spec.selector).toEqual(selector);
  // The ReplicaSet controller creates the Pods (they stay Pending: nothing schedules them).
  const pods = await eventually(() => kubectlJson<{ items: Labeled[] }>(['get', 'pods', '-n', ns]), {
    until: (p) => p.items.length === 2,
    what: '2 controller Pods',
  });
  for (const p of pods.items) expect(p.metadata.labels).toMatchObject(selector);
});

it('keeps the caBundle the leader wrote across helm upgrade (the chart never renders it)', async () => {
  const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nleader-written\n-----END CERTIFICATE-----\n').toString('base64');
  const patch = JSON.stringify([{ op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: ca }]);
  for (const kind of ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration']) {
    const name = `${release}-${kind.startsWith('mutating') ? 'inject' : 'validate'}`;
    await kubectl(['patch', kind, name, '--type=json', '-p', patch]);
  }
  await helm(['upgrade', release, chart, '-n', ns, ...confine, '--set', 'controller.logLevel=debug', '--set', 'webhooks.timeoutSeconds=7']);
  for (const kind of ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration']) {
    const name = `${release}-${kind.startsWith('mutating') ? 'inject' : 'validate'}`;
    const live = await kubectlJson<{ webhooks: { timeoutSeconds: number; clientConfig: { caBundle?: string } }[] }>(['get', kind, name]);
    expect(live.webhooks[0]?.timeoutSeconds, `${kind} upgraded`).toBe(7);
    expect(live.webhooks[0]?.clientConfig.caBundle, `${kind} caBundle kept`).toBe(ca);
  }
});
