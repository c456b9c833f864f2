// weftctl status and config the way a user runs them: Weft installed by its chart (two replicas,
// the authenticated debug API, the default), real injected Pods in two namespaces, and a user
// (a ServiceAccount token in a kubeconfig) bound to the chart's -debug-reader ClusterRole in
// namespace A only and to its -weftctl Role in Weft's namespace. weftctl finds the ready
// controller Pods and port-forwards to each through the API server and the kubelet; it lists A's
// proxies whichever replica they are connected to, and nothing of B. A user without
// pods/portforward gets one line saying so.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../src/k8s/client.ts';
import { napply, nk, nodeCluster, nodeSuitesEnabled } from '../node/support.ts';
import { deployEcho } from './support/traffic-loop.ts';
import { installWeft, weftImages, type WeftRelease } from './support/weft.ts';

const bin = fileURLToPath(new URL('../../bin/weftctl.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function weftctl(args: readonly string[], kubeconfig: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { timeout: 90_000, env: { ...process.env, KUBECONFIG: kubeconfig, WEFTCTL_TOKEN: '' } },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
      },
    );
  });
}

describe.skipIf(!nodeSuitesEnabled)('weftctl status and config through port-forward, on real Pods', () => {
  let rel: WeftRelease;
  const ns: { name: string; remove: () => Promise<void> }[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'weftctl-pods-'));
  const kubeconfigs: Record<'alice' | 'bob', string> = { alice: '', bob: '' };

  async function userKubeconfig(name: string): Promise<string> {
    const token = (await nk(['-n', rel.namespace, 'create', 'token', name, '--duration', '30m'])).stdout.trim();
    const c = loadKubeConfig((await nodeCluster()).kubeconfig).getCurrentCluster()!;
    const ca = c.caData ?? (c.caFile ? readFileSync(c.caFile).toString('base64') : undefined);
    const file = join(dir, name);
    writeFileSync(
      file,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: node\n  cluster:\n    server: ${c.server}\n    ${ca ? `certificate-authority-data: ${ca}` : 'insecure-skip-tls-verify: true'}\n` +
        `users:\n- name: ${name}\n  user:\n    token: ${token}\ncontexts:\n- name: node\n  context: {cluster: node, user: ${name}, namespace: ${ns[0]!.name}}\ncurrent-context: node\n`,
      { mode: 0o600 },
    );
    return file;
  }

  beforeAll(async () => {
    const images = await weftImages();
    rel = await installWeft();
    ns.push(await rel.meshNamespace('ctl-a'), await rel.meshNamespace('ctl-b'));
    for (const n of ns) await deployEcho(n.name, images.weft, 2, 8080);
    const binding = (kind: 'Role' | 'ClusterRole', role: string, namespace: string, user: string) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${user}-${role}`, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: role },
      subjects: [{ kind: 'ServiceAccount', name: user, namespace: rel.namespace }],
    });
    await napply([
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'alice', namespace: rel.namespace } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'bob', namespace: rel.namespace } },
      // bob may find the controller Pods but not port-forward to them.
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'pod-reader', namespace: rel.namespace },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
      },
      binding('ClusterRole', `${rel.fullname}-debug-reader`, ns[0]!.name, 'alice'),
      binding('Role', `${rel.fullname}-weftctl`, rel.namespace, 'alice'),
      binding('ClusterRole', `${rel.fullname}-debug-reader`, ns[0]!.name, 'bob'),
      binding('Role', 'pod-reader', rel.namespace, 'bob'),
    ]);
    kubeconfigs.alice = await userKubeconfig('alice');
    kubeconfigs.bob = await userKubeconfig('bob');
  }, 900_000);

  afterAll(async () => {
    for (const n of ns) await n.remove();
    await rel?.uninstall();
    rmSync(dir, { recursive: true, force: true });
  }, 180_000);

  const where = (): string[] => ['--control-plane-namespace', rel.namespace, '--release', rel.release];

  it('status -A: every proxy of A (both Pods, whichever replica), SYNCED, and nothing of B', { timeout: 180_000 }, async () => {
    const controllers = (await rel.pods()).filter((p) => p.ready).map((p) => p.name);
    let rows: { namespace: string; pod: string; replica: string; status: string; identity?: string }[] = [];
    let last: Run | undefined;
    for (let i = 0; i < 30; i++) {
      last = await weftctl(['status', '-A', '-o', 'json', ...where()], kubeconfigs.alice);
      rows = last.code === 0 ? (JSON.parse(last.stdout) as typeof rows) : [];
      if (rows.length === 2 && rows.every((r) => r.status === 'SYNCED')) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    expect(last?.code, last?.stderr).toBe(0);
    expect(rows.map((r) => r.namespace)).toEqual([ns[0]!.name, ns[0]!.name]);
    expect(rows.every((r) => r.pod.startsWith('echo-') && r.status === 'SYNCED' && controllers.includes(r.replica))).toBe(true);
    expect(rows[0]!.identity).toBe(`spiffe://cluster.local/ns/${ns[0]!.name}/sa/default`);
    expect(last!.stdout).not.toContain(ns[1]!.name);
    const table = await weftctl(['status', ...where()], kubeconfigs.alice);
    console.log(`[weftctl pods] ${controllers.length} replicas; alice's status:\n${table.stdout}`);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAMESPACE +POD +IDENTITY +REPLICA +STATUS +CDS +EDS +LDS +RDS +SDS$/);
  });

  it('config: the served clusters and a workload certificate without its key; B is refused', { timeout: 120_000 }, async () => {
    const pods = (await nk(['-n', ns[0]!.name, 'get', 'pods', '-l', 'app=echo', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout.trim();
    const r = await weftctl(['config', pods, ...where()], kubeconfigs.alice);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`outbound|8080||echo.${ns[0]!.name}.svc.cluster.local`);
    expect(r.stdout).toMatch(new RegExp(`default +certificate +- +URI:spiffe://cluster.local/ns/${ns[0]!.name}/sa/default`));
    const secrets = await weftctl(['config', pods, 'secrets', '-o', 'json', ...where()], kubeconfigs.alice);
    expect(secrets.stdout).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
    const other = (await nk(['-n', ns[1]!.name, 'get', 'pods', '-l', 'app=echo', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout.trim();
    const refused = await weftctl(['config', other, '-n', ns[1]!.name, ...where()], kubeconfigs.alice);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`you may not get proxies.mesh.weft.dev in namespace ${ns[1]!.name}`);
  });

  it('a user without pods/portforward gets one line naming the right', { timeout: 60_000 }, async () => {
    const r = await weftctl(['status', ...where()], kubeconfigs.bob);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^weftctl status: you may not port-forward to .*: ask for get and create on pods\/portforward in .*, or pass --debug-url\n$/);
    console.log(`[weftctl pods] bob: ${r.stderr.trim()}`);
  });
});
