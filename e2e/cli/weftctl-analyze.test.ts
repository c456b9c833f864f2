// `weftctl analyze` against the real API server: it reads Services, EndpointSlices, policies,
// namespaces and Pods with the user's kubeconfig, finds what is wrong in one namespace and
// nothing of another, and a user whose RBAC stops at a namespace gets what they may read and a
// line saying what was skipped, never another namespace's objects.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { apply, cluster, kubectl, repoRoot, serviceAccountKubeconfig, tempNamespace, waitFor } from '../support/kube.ts';

const bin = join(repoRoot, 'bin/weftctl.js');
const crdDir = join(repoRoot, 'crds');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function weftctl(kubeconfig: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args, '--kubeconfig', kubeconfig], { timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

interface Report {
  findings: { code: string; object: string; message: string }[];
  skipped: string[];
}

let admin = '';
let meshed = '';
let plain = '';

const pod = (namespace: string, name: string, annotations: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, annotations, labels: { app: name } },
  spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
});

beforeAll(async () => {
  admin = (await cluster()).kubeconfig;
  await kubectl(['apply', '--server-side', '--field-manager=weft-e2e', '--force-conflicts', '-f', crdDir]);
  for (const f of readdirSync(crdDir).filter((n) => n.endsWith('.yaml')))
    await waitFor('condition=Established', `crd/${f.replace(/\.yaml$/, '')}.mesh.weft.dev`);
  meshed = await tempNamespace('analyze-mesh', { 'weft.dev/inject': 'enabled' });
  plain = await tempNamespace('analyze-plain');
  await apply([
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: meshed }, spec: { ports: [{ name: 'http', port: 80 }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: meshed }, spec: { ports: [{ name: 'main', port: 5432 }] } },
    {
      apiVersion: 'mesh.weft.dev/v1alpha1',
      kind: 'TrafficSplit',
      metadata: { name: 'web', namespace: meshed },
      spec: { service: 'web', backends: [{ service: 'web-v9', weight: 100 }] },
    },
    // Opted out: never reported. The other Pod started before injection: restart it.
    pod(meshed, 'old'),
    { ...pod(meshed, 'batch'), metadata: { ...pod(meshed, 'batch').metadata, labels: { 'weft.dev/inject': 'false' } } },
    // A sidecar (the status annotation the webhook writes) in a namespace without the label.
    pod(plain, 'leftover', { 'weft.dev/status': '{"version":"0.1.0"}' }),
  ]);
}, 900_000); // may start the cluster (e2e/cluster/up.sh)

describe('weftctl analyze on a real API server', () => {
  it('finds the missing backend, the Pod to restart and the untyped port in one namespace; exit 1', async () => {
    const r = await weftctl(admin, 'analyze', '-n', meshed, '-o', 'json');
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    const found = report.findings.map((f) => `${f.code} ${f.object}`);
    expect(found).toContain(`WEFT0004 TrafficSplit ${meshed}/web`);
    expect(found).toContain(`WEFT0010 Service ${meshed}/db`);
    // Only when no webhook injected it (another suite's webhook may be registered).
    const old = JSON.parse((await kubectl(['-n', meshed, 'get', 'pod', 'old', '-o', 'json'])).stdout) as { metadata: { annotations?: Record<string, string> } };
    if (old.metadata.annotations?.['weft.dev/status'] === undefined) expect(found).toContain(`WEFT0008 Pod ${meshed}/old`);
    expect(found).not.toContain(`WEFT0008 Pod ${meshed}/batch`);
    expect(found.filter((f) => f.includes(plain))).toEqual([]);
    expect(report.skipped).toEqual([]);
  });

  it('-A sees the sidecar left in an unlabelled namespace', async () => {
    const r = await weftctl(admin, 'analyze', '-A', '-o', 'json');
    const found = (JSON.parse(r.stdout) as Report).findings.map((f) => `${f.code} ${f.object}`);
    expect(found).toContain(`WEFT0009 Pod ${plain}/leftover`);
  });

  it('a user who may read only their namespace: their findings, a skipped line, nothing of others', async () => {
    await apply([
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'dev', namespace: meshed } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'dev-view', namespace: meshed },
        subjects: [{ kind: 'ServiceAccount', name: 'dev', namespace: meshed }],
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      },
    ]);
    const dev = await serviceAccountKubeconfig(meshed, 'dev');
    const own = await weftctl(dev, 'analyze', '-o', 'json'); // the context's namespace
    const report = JSON.parse(own.stdout) as Report;
    expect(report.findings.map((f) => f.code)).toContain('WEFT0010');
    // `view` does not cover Weft's CRDs or the namespace object: said, not guessed.
    expect(report.skipped.length).toBeGreaterThan(0);
    const other = await weftctl(dev, 'analyze', '-n', plain, '-o', 'json');
    const theirs = JSON.parse(other.stdout) as Report;
    expect(theirs.findings).toEqual([]);
    expect(theirs.skipped.join(' ')).toContain('services (forbidden)');
  });
});
