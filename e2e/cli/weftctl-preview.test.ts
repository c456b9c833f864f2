// `weftctl preview` and `weftctl describe pod` against the real API server: the mesh as the
// cluster holds it, a meshed Pod (the webhook's status annotation), and a split edit in a file:
// the preview shows the route change for that Pod and applies nothing; describe shows the Pod's
// inbound mTLS mode with the PeerAuth that decided it, and the split it routes by.
import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { apply, cluster, kubectl, repoRoot, tempNamespace, toYaml, waitFor } from '../support/kube.ts';

const bin = join(repoRoot, 'bin/weftctl.js');
const crdDir = join(repoRoot, 'crds');

function weftctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

let kubeconfig = '';
let ns = '';
const split = (v1: number, v2: number) => ({
  apiVersion: 'mesh.weft.dev/v1alpha1',
  kind: 'TrafficSplit',
  metadata: { name: 'web', namespace: ns },
  spec: {
    service: 'web',
    backends: [
      { service: 'web-v1', weight: v1 },
      { service: 'web-v2', weight: v2 },
    ],
  },
});

beforeAll(async () => {
  kubeconfig = (await cluster()).kubeconfig;
  await kubectl(['apply', '--server-side', '--field-manager=weft-e2e', '--force-conflicts', '-f', crdDir]);
  for (const f of readdirSync(crdDir).filter((n) => n.endsWith('.yaml')))
    await waitFor('condition=Established', `crd/${f.replace(/\.yaml$/, '')}.mesh.weft.dev`);
  ns = await tempNamespace('preview', { 'weft.dev/inject': 'enabled' });
  const svc = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { ports: [{ name: 'http', port: 80 }] } });
  await apply([
    svc('web'),
    svc('web-v1'),
    svc('web-v2'),
    split(90, 10),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'client', namespace: ns },
      spec: { selector: { app: 'client' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    },
    { apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'PeerAuth', metadata: { name: 'strict', namespace: ns }, spec: { mtls: { mode: 'STRICT' } } },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'client',
        namespace: ns,
        annotations: { 'weft.dev/status': '{"version":"0.1.0"}' },
        labels: { app: 'client', 'weft.dev/inject': 'false' },
      },
      spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
    },
  ]);
}, 900_000);

it('a split edit: one changed route configuration for the meshed Pod, with the new weights; nothing applied', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-preview-'));
  writeFileSync(join(dir, 'split.yaml'), toYaml(split(50, 50)));
  const r = await weftctl('preview', '--kubeconfig', kubeconfig, '-n', ns, '-f', dir);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain(`TrafficSplit ${ns}/web: Accepted`);
  // A Service with a ClusterIP has a route configuration of its own (small pushes, issue 11).
  expect(r.stdout).toContain(`1 proxy: ${ns}/client\n  ~ rds outbound|80||web.${ns}.svc.cluster.local\n`);
  expect(r.stdout).toMatch(/replace \/virtualHosts\/\d+\/routes\/\d+\/route\/weightedClusters\/clusters\/0\/weight = 50/);
  const live = JSON.parse((await kubectl(['-n', ns, 'get', 'trafficsplit', 'web', '-o', 'json'])).stdout) as { spec: { backends: { weight: number }[] } };
  expect(live.spec.backends.map((b) => b.weight)).toEqual([90, 10]);
});

it('describe pod: identity, inbound mode with the deciding PeerAuth, the split it routes by; an unknown Pod is one line, exit 1', async () => {
  const r = await weftctl('describe', 'pod', 'client', '-n', ns, '--kubeconfig', kubeconfig);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain(`Identity:  spiffe://cluster.local/ns/${ns}/sa/default`);
  expect(r.stdout).toContain(`  ${ns}/client port 80 → 8080 (http): mTLS STRICT (PeerAuth ${ns}/strict, namespace level)`);
  expect(r.stdout).toContain(`  ${ns}/web: TrafficSplit ${ns}/web — web-v1 90%, web-v2 10%`);
  const missing = await weftctl('describe', 'pod', 'nope', '-n', ns, '--kubeconfig', kubeconfig);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toBe(`weftctl describe: pod ${ns}/nope not found; check the name and -n (kubectl get pods -n ${ns})\n`);
});
