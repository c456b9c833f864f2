// weftctl status and config against `weft controller --debug-auth=kube` and the real
// kube-apiserver with real RBAC and real tokens (ServiceAccounts, a RoleBinding of the chart's
// debug-reader ClusterRole in namespace A only, TokenRequest): alice sees A's proxies and nothing
// of B (list, config, graph); a cluster-wide reader sees both; every bad input is one line that
// says what to do and a non-zero exit. weftctl talks to the controller over --debug-url here (no
// kubelet, so no port-forward); e2e/pods/weftctl.test.ts proves the port-forward path on the node.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../src/k8s/client.ts';
import { SIDECAR_STATUS_ANNOTATION } from '../../src/model/build.ts';
import { startController, type ControllerProcess } from './support/controller-process.ts';
import { connectAds, type AdsWatcher } from './support/ads-watcher.ts';
import { eventually, tempNamespace, uniqueName } from '../support/kube.ts';
import { apply, controllerIdentity, installCrds, kubectl, SCOPE_LABEL, sharedCluster, type ClusterEnv } from './support/kube.ts';
import { controllerRbacYaml } from './support/rbac.ts';

const bin = fileURLToPath(new URL('../../bin/weftctl.js', import.meta.url));
let env: ClusterEnv;
let ctl: ControllerProcess;
let cpNs: string;
let nsA: string;
let nsB: string;
const tokens: Record<'alice' | 'reader' | 'stranger', string> = { alice: '', reader: '', stranger: '' };
let aliceKubeconfig: string;
const dir = mkdtempSync(join(tmpdir(), 'weftctl-access-'));
const scope = uniqueName('weft-ctl');
const ads: AdsWatcher[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function weftctl(args: readonly string[], kubeconfig = ''): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { timeout: 60_000, env: { ...process.env, KUBECONFIG: kubeconfig, WEFTCTL_TOKEN: '' } },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
      },
    );
  });
}

const url = (): string[] => ['--debug-url', ctl.monitoringUrl];

/** A kubeconfig whose user is a bearer token (as `kubectl config set-credentials --token`). */
function tokenKubeconfig(token: string, namespace: string): string {
  const admin = loadKubeConfig(env.kubeconfig).getCurrentCluster()!;
  const ca = admin.caData ?? (admin.caFile ? readFileSync(admin.caFile).toString('base64') : undefined);
  const file = join(dir, `kc-${namespace}-${token.slice(-6)}`);
  writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: e2e\n  cluster:\n    server: ${admin.server}\n    ${ca ? `certificate-authority-data: ${ca}` : 'insecure-skip-tls-verify: true'}\n` +
      `users:\n- name: u\n  user:\n    token: ${token}\ncontexts:\n- name: e2e\n  context: {cluster: e2e, user: u, namespace: ${namespace}}\ncurrent-context: e2e\n`,
    { mode: 0o600 },
  );
  return file;
}

const oneLine = (r: Run): void => {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
};

beforeAll(async () => {
  env = await sharedCluster();
  await installCrds(env);
  cpNs = await tempNamespace('weft-ctl', { [SCOPE_LABEL]: scope });
  nsA = await tempNamespace('team-a', { [SCOPE_LABEL]: scope });
  nsB = await tempNamespace('team-b', { [SCOPE_LABEL]: scope });
  const rbac = await controllerRbacYaml(env, cpNs, ['--set', 'debugApi.authenticated=true']);
  const identity = await controllerIdentity(env, cpNs, rbac.yaml);
  cleanups.push(identity.cleanup);
  const reader = `weft-debug-reader-${cpNs}`;
  const svc = (ns: string, name: string) =>
    `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: {selector: {app: ${name}}, ports: [{name: http, port: 8080}]}`;
  await apply(
    env,
    [
      ...['alice', 'reader', 'stranger'].map((n) => `apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ${n}, namespace: ${cpNs}}`),
      // alice: the chart's reader ClusterRole bound in namespace A only.
      `apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: alice-weft-debug, namespace: ${nsA}}\n` +
        `roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${reader}}\nsubjects: [{kind: ServiceAccount, name: alice, namespace: ${cpNs}}]`,
      `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: ${reader}-reader}\n` +
        `roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${reader}}\nsubjects: [{kind: ServiceAccount, name: reader, namespace: ${cpNs}}]`,
      svc(nsA, 'web'),
      svc(nsB, 'pay'),
    ].join('\n---\n'),
  );
  cleanups.push(() => kubectl(env, ['delete', 'clusterrolebinding', `${reader}-reader`, '--ignore-not-found']));
  for (const n of ['alice', 'reader', 'stranger'] as const) tokens[n] = (await kubectl(env, ['create', 'token', n, '-n', cpNs, '--duration', '10m'])).trim();
  aliceKubeconfig = tokenKubeconfig(tokens.alice, nsA);
  // Pods as the API server knows them (no kubelet runs them): one injected, one not, one injected whose proxy never connects.
  const pod = (name: string, injected: boolean) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: ${nsA}${injected ? `, annotations: {${SIDECAR_STATUS_ANNOTATION}: injected}` : ''}}\n` +
    `spec: {automountServiceAccountToken: false, containers: [{name: app, image: registry.invalid/app}]}`;
  await eventually(() => apply(env, [pod('web-1', true), pod('plain-1', false), pod('gone-1', true)].join('\n---\n')), { timeoutMs: 30_000 });

  ctl = await startController({
    kubeconfig: identity.kubeconfig,
    namespace: cpNs,
    identity: 'ctl-0',
    args: ['--debug-auth', 'kube', '--leader-elect=false', '--discovery-selector', `${SCOPE_LABEL}=${scope}`],
  });
  ads.push(connectAds(ctl.xdsPort, { id: `web-1.${nsA}`, namespace: nsA }), connectAds(ctl.xdsPort, { id: `pay-1.${nsB}`, namespace: nsB }));
  await Promise.all(ads.map((a) => a.waitFor(() => a.clusters().size > 0, 30_000)));
}, 180_000);

afterAll(async () => {
  for (const a of ads) a.close();
  await ctl?.stop();
  for (const c of cleanups.reverse()) await c().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe('weftctl with per-namespace access (real RBAC, real tokens)', () => {
  it('status: alice (a RoleBinding in A) sees A proxies and nothing of B; the cluster-wide reader sees both', async () => {
    const alice = await weftctl(['status', '-A', '-o', 'json', ...url()], aliceKubeconfig);
    expect(alice.code, alice.stderr).toBe(0);
    const rows = JSON.parse(alice.stdout) as { namespace: string; pod: string; status: string; replica: string }[];
    expect(rows.map((r) => `${r.namespace}/${r.pod}`)).toEqual([`${nsA}/web-1`]);
    expect(rows[0]!.status).toBe('SYNCED');
    expect(alice.stdout).not.toContain(nsB);
    expect(alice.stderr).toBe('weftctl status: only the namespaces you may get proxies.mesh.weft.dev in are listed (you lack the right cluster-wide)\n');
    // The context's namespace (A) is the default, as kubectl's.
    const table = await weftctl(['status', ...url()], aliceKubeconfig);
    expect(table.stdout).toMatch(
      new RegExp(`^NAMESPACE +POD +IDENTITY +REPLICA +STATUS +CDS +EDS +LDS +RDS +SDS\\n${nsA} +web-1 +- +${ctl.monitoringUrl.replace(/[.]/g, '\\.')} +SYNCED`),
    );
    const reader = await weftctl(['status', '-A', '-o', 'yaml', '--token', tokens.reader, ...url()]);
    expect(reader.code, reader.stderr).toBe(0);
    expect(reader.stdout).toContain(`pod: web-1`);
    expect(reader.stdout).toContain(`pod: pay-1`);
    expect(reader.stderr).toBe('');
    // Without any right: an empty list, said to be narrowed, rather than a claim that nothing is connected.
    const stranger = await weftctl(['status', '-A', '--token', tokens.stranger, ...url()]);
    expect(stranger).toMatchObject({ code: 0, stdout: 'No proxies connected.\n' });
    expect(stranger.stderr).toContain('only the namespaces you may get proxies.mesh.weft.dev in are listed');
    console.log(`[weftctl-access] status: alice sees ${rows.length} proxy (A), the reader both namespaces`);
  });

  it('status -n B: alice is refused in one line, whether or not B has proxies', async () => {
    for (const ns of [nsB, 'no-such-namespace']) {
      const r = await weftctl(['status', '-n', ns, ...url()], aliceKubeconfig);
      oneLine(r);
      expect(r.stderr).toBe(
        `weftctl status: the debug API refused: you may not get proxies.mesh.weft.dev in namespace ${ns}; ask for get on proxies.mesh.weft.dev there (kubectl create rolebinding <name> -n <namespace> --clusterrole=weft-debug-reader --user=<you>)\n`,
      );
    }
  });

  it('config: alice reads her proxy; B proxy is refused by pod, and by id it is as absent as a proxy that does not exist', async () => {
    const own = await weftctl(['config', 'web-1', '-n', nsA, ...url()], aliceKubeconfig);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout).toContain(`Proxy:     ${nsA}/web-1 (id web-1.${nsA})`);
    expect(own.stdout).toMatch(/CLUSTERS\nNAME +TYPE/);
    const clusters = await weftctl(['config', 'web-1', 'clusters', '-n', nsA, '-o', 'json', ...url()], aliceKubeconfig);
    expect((JSON.parse(clusters.stdout) as { name: string }[]).map((c) => c.name)).toContain(`outbound|8080||web.${nsA}.svc.cluster.local`);
    expect(own.stdout).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);

    const byPod = await weftctl(['config', 'pay-1', '-n', nsB, ...url()], aliceKubeconfig);
    oneLine(byPod);
    expect(byPod.stderr).toContain(`you may not get proxies.mesh.weft.dev in namespace ${nsB}`);
    const hidden = await weftctl(['config', `pay-1.${nsB}`, ...url()], aliceKubeconfig);
    const absent = await weftctl(['config', `nope-1.${nsB}`, ...url()], aliceKubeconfig);
    oneLine(hidden);
    expect(hidden.stderr.replaceAll('pay-1', 'X')).toBe(absent.stderr.replaceAll('nope-1', 'X'));
  });

  it('the mesh graph for alice holds A and nothing of B', async () => {
    const res = await fetch(`${ctl.monitoringUrl}/mesh/api/graph`, { headers: { authorization: `Bearer ${tokens.alice}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    const view = JSON.parse(text) as { services: { namespace: string }[]; proxies: { namespace: string }[] };
    expect(new Set(view.services.map((s) => s.namespace))).toEqual(new Set([nsA]));
    expect(view.proxies.map((p) => p.namespace)).toEqual([nsA]);
    expect(text).not.toContain(nsB);
    const full = await (await fetch(`${ctl.monitoringUrl}/mesh/api/graph`, { headers: { authorization: `Bearer ${tokens.reader}` } })).text();
    expect(full).toContain(nsB);
    // Mesh-wide views stay behind the cluster-wide right.
    expect((await fetch(`${ctl.monitoringUrl}/debug/config`, { headers: { authorization: `Bearer ${tokens.alice}` } })).status).toBe(403);
  });

  it('bad input: one line naming what to do, exit 1', async () => {
    const cases: [string, Promise<Run>, RegExp][] = [
      // The harness admin kubeconfig authenticates with a client certificate: no token to send.
      ['no token', weftctl(['status', '-A', ...url()], env.kubeconfig), /needs a bearer token .*pass --token \$\(kubectl create token <serviceaccount>\)/],
      ['bad token', weftctl(['status', '-A', '--token', 'not-a-token', ...url()]), /did not accept your token/],
      [
        'RBAC denied',
        weftctl(['status', '-n', nsA, '--token', tokens.stranger, ...url()]),
        /^weftctl status: the debug API refused: you may not get proxies.mesh.weft.dev in namespace .*rolebinding/,
      ],
      [
        'unknown pod',
        weftctl(['config', 'no-such-pod', '-n', nsA, '--token', tokens.reader, ...url()], env.kubeconfig),
        /no pod .*\/no-such-pod and no connected proxy with id no-such-pod: check the name and -n/,
      ],
      [
        'pod without sidecar',
        weftctl(['config', 'plain-1', '-n', nsA, '--token', tokens.reader, ...url()], env.kubeconfig),
        /has no Weft sidecar: label its namespace .* and restart it/,
      ],
      [
        'proxy not connected',
        weftctl(['config', 'gone-1', '-n', nsA, '--token', tokens.reader, ...url()], env.kubeconfig),
        /is not connected to any controller replica: check its sidecar/,
      ],
      [
        'controller unreachable (URL)',
        weftctl(['status', '-A', '--token', tokens.reader, '--debug-url', 'http://127.0.0.1:1']),
        /controller unreachable at http:\/\/127.0.0.1:1 .*check --debug-url/,
      ],
      [
        'controller unreachable (no controller Pod)',
        weftctl(['status', '-A', '--token', tokens.reader, '--control-plane-namespace', nsB], env.kubeconfig),
        /controller unreachable: no ready Weft controller Pod in .*check kubectl -n .* get pods/,
      ],
    ];
    for (const [name, run, want] of cases) {
      const r = await run;
      oneLine(r);
      expect(r.stderr, name).toMatch(want);
      console.log(`[weftctl-access] ${name}: ${r.stderr.trim()}`);
    }
  });
});
