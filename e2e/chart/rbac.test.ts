// The chart's RBAC is sufficient and least-privilege: the real API server is asked (by
// impersonating the chart's ServiceAccount) about every verb the controller uses — yes —
// and about neighbours it must never get — no. Then a few of the controller's real calls
// are made with a token issued to that ServiceAccount.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_KINDS } from '../../src/api/objects.ts';
import { Resources } from '../../src/k8s/resources.ts';
import { canI, cluster, helm, kubectl, repoRoot, run, serviceAccountKubeconfig, tempNamespace, uniqueName } from '../support/kube.ts';

const release = uniqueName('weft-rbac');
const policyResources = POLICY_KINDS.map((k) => `${Resources[k].plural}.${Resources[k].group}`);
let ns = '';
let elsewhere = '';
let as = '';

beforeAll(async () => {
  ns = await tempNamespace('weft-rbac-sys');
  elsewhere = await tempNamespace('weft-rbac-other');
  as = `system:serviceaccount:${ns}:${release}`;
  // Webhooks off: this file only needs the identity and its RBAC (external mode needs a URL and CA all the same).
  await helm([
    'install',
    release,
    join(repoRoot, 'charts/weft'),
    '-n',
    ns,
    '--set',
    'controlPlane.external.enabled=true',
    '--set',
    'controlPlane.external.webhookUrl=https://127.0.0.1:9443',
    '--set',
    'controlPlane.external.caBundle=Cg==',
    '--set',
    'webhooks.inject.enabled=false',
    '--set',
    'webhooks.validate.enabled=false',
  ]);
}, 900_000); // may start the cluster (e2e/cluster/up.sh)

afterAll(async () => {
  await helm(['uninstall', release, '-n', ns, '--ignore-not-found'], { allowFailure: true });
});

type Question = [verb: string, resource: string, where: 'all' | 'release' | 'elsewhere' | 'cluster', subresource?: string];

async function ask([verb, resource, where, subresource]: Question): Promise<boolean> {
  const namespace = where === 'release' ? ns : where === 'elsewhere' ? elsewhere : undefined;
  const r = await canI(as, verb, resource, { ...(namespace ? { namespace } : {}), ...(subresource ? { subresource } : {}) });
  if (where !== 'all') return r;
  // "all": cluster-wide (no namespace) for a namespaced resource means every namespace.
  return r && (await canI(as, verb, resource, { namespace: elsewhere, ...(subresource ? { subresource } : {}) }));
}

const needed: Question[] = [
  ...['services', 'pods', 'namespaces', 'endpointslices.discovery.k8s.io', ...policyResources].flatMap((r): Question[] => [
    ['list', r, 'all'],
    ['watch', r, 'all'],
    ['get', r, 'all'],
  ]),
  ...policyResources.flatMap((r): Question[] => [
    ['patch', r, 'all', 'status'],
    ['update', r, 'all', 'status'],
  ]),
  ['create', 'events', 'elsewhere'],
  ['create', 'events.events.k8s.io', 'elsewhere'],
  ['create', 'leases.coordination.k8s.io', 'release'],
  ['get', 'leases.coordination.k8s.io/weft-controller', 'release'],
  ['update', 'leases.coordination.k8s.io/weft-controller', 'release'],
  // replica reports (weft-replica-<pod>): written by each replica, watched by the leader
  ...['list', 'watch', 'update', 'delete'].map((v): Question => [v, 'leases.coordination.k8s.io', 'release']),
  // the authenticated debug API (the default): who is calling, and may they read that namespace
  ['create', 'tokenreviews.authentication.k8s.io', 'cluster'],
  ['create', 'subjectaccessreviews.authorization.k8s.io', 'cluster'],
  ['create', 'secrets', 'release'],
  ['get', 'secrets/weft-root-ca', 'release'],
  ['update', 'secrets/weft-root-ca', 'release'],
  ...['get', 'list', 'watch', 'patch', 'update'].flatMap((v): Question[] => [
    [v, `mutatingwebhookconfigurations/${release}-inject`, 'cluster'],
    [v, `validatingwebhookconfigurations/${release}-validate`, 'cluster'],
  ]),
];

const forbidden: Question[] = [
  ['delete', 'pods', 'elsewhere'],
  ['create', 'pods', 'elsewhere'],
  ['update', 'services', 'elsewhere'],
  ['create', 'endpointslices.discovery.k8s.io', 'elsewhere'],
  ['update', 'trafficsplits.mesh.weft.dev', 'elsewhere'], // specs belong to users; only /status is ours
  ['patch', 'retrypolicies.mesh.weft.dev', 'elsewhere'],
  ['delete', 'peerauths.mesh.weft.dev', 'elsewhere'],
  ['patch', 'authorizationpolicies.mesh.weft.dev', 'elsewhere'],
  ['create', 'trafficsplits.mesh.weft.dev', 'elsewhere'],
  ['get', 'secrets', 'elsewhere'],
  ['list', 'secrets', 'release'],
  ['watch', 'secrets', 'release'],
  ['get', 'secrets/someone-elses', 'release'],
  ['get', `secrets/${release}-webhook-tls`, 'release'], // serving certificates live in memory only
  ['delete', 'secrets/weft-root-ca', 'release'],
  ['create', 'leases.coordination.k8s.io', 'elsewhere'],
  ['update', 'leases.coordination.k8s.io', 'elsewhere'],
  ['list', 'leases.coordination.k8s.io', 'elsewhere'],
  ['delete', 'leases.coordination.k8s.io', 'elsewhere'],
  ['patch', 'mutatingwebhookconfigurations/another-webhook', 'cluster'],
  ['patch', 'validatingwebhookconfigurations/another-webhook', 'cluster'],
  ['create', 'mutatingwebhookconfigurations', 'cluster'],
  ['create', 'serviceaccounts', 'elsewhere', 'token'],
  ['create', 'clusterrolebindings.rbac.authorization.k8s.io', 'cluster'],
  ['update', 'customresourcedefinitions.apiextensions.k8s.io', 'cluster'],
  ['get', 'configmaps', 'elsewhere'],
];

/** The questions whose answer is not `want`, asked a few at a time (each is a kubectl process). */
async function mismatches(questions: Question[], want: boolean): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < questions.length; i += 6) {
    const batch = questions.slice(i, i + 6);
    const answers = await Promise.all(batch.map(ask));
    batch.forEach((q, j) => answers[j] !== want && out.push(q.join(' ')));
  }
  return out;
}

describe('chart RBAC, asked of the real API server as the chart ServiceAccount', () => {
  it('grants every verb the controller needs', async () => {
    expect(await mismatches(needed, true), 'denied').toEqual([]);
  });

  it('grants nothing the controller must not do', async () => {
    expect(await mismatches(forbidden, false), 'allowed').toEqual([]);
  });
});

it('a token of the chart ServiceAccount does what the controller does, and no more', async () => {
  const kubeconfig = await serviceAccountKubeconfig(ns, release);
  const { kubectl: bin } = await cluster();
  const sa = (args: string[], input?: string) => run(bin, ['--kubeconfig', kubeconfig, ...args], { allowFailure: true, ...(input ? { input } : {}) });
  expect((await sa(['get', ['services', 'pods', 'endpointslices', ...POLICY_KINDS.map((k) => Resources[k].plural)].join(','), '-A'])).code).toBe(0);
  const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'weft-controller', namespace: ns }, spec: { holderIdentity: 'e2e' } };
  expect((await sa(['create', '-f', '-'], JSON.stringify(lease))).stderr).toBe('');
  expect((await sa(['get', 'lease', 'weft-controller', '-n', ns])).code).toBe(0);
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'weft-root-ca', namespace: ns }, data: { 'ca.crt': 'Cg==' } };
  expect((await sa(['create', '-f', '-'], JSON.stringify(secret))).stderr).toBe('');
  expect((await sa(['get', 'secret', 'weft-root-ca', '-n', ns])).code).toBe(0);
  const denied = await sa(['get', 'secrets', '-n', elsewhere]);
  expect(denied.code).not.toBe(0);
  expect(denied.stderr).toMatch(/forbidden/i);
  await kubectl(['delete', 'lease', 'weft-controller', '-n', ns, '--ignore-not-found']);
});
