// The controller suites' view of a cluster: the shared one through e2e/support/kube.ts
// (the local harness, or WEFT_E2E_KUBECONFIG), or a PRIVATE harness instance in its own
// WEFT_CLUSTER_DIR for tests that must stop the API server. Plus the CRDs and a
// least-privilege identity for the controller (the chart's ServiceAccount and RBAC, with
// a token the API server issues).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadKubeConfig } from '../../../src/k8s/client.ts';
import { cluster, repoRoot } from '../../support/kube.ts';

const run = promisify(execFile);
export { repoRoot };

export interface ClusterEnv {
  readonly kubeconfig: string;
  readonly kubectl: string;
  readonly helm: string;
  readonly server: string;
  /** True for the local harness (a private instance or the shared one). */
  readonly local: boolean;
}

/** Namespace label a suite's controllers select with --discovery-selector, so suites never touch each other's CRs. */
export const SCOPE_LABEL = 'weft.dev/e2e-controller';

/** The shared cluster under test (started if needed; never stopped by a test). */
export async function sharedCluster(): Promise<ClusterEnv> {
  const c = await cluster();
  return { kubeconfig: c.kubeconfig, kubectl: c.kubectl, helm: c.helm, server: c.apiserverUrl, local: c.local };
}

export function readClusterEnv(dir: string): ClusterEnv {
  const vars: Record<string, string> = {};
  for (const line of readFileSync(join(dir, 'env'), 'utf8').split('\n')) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line);
    if (m) vars[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1');
  }
  const need = (k: string): string => {
    const v = vars[k];
    if (!v) throw new Error(`${dir}/env has no ${k}`);
    return v;
  };
  return { kubeconfig: need('KUBECONFIG'), kubectl: need('WEFT_KUBECTL'), helm: need('WEFT_HELM'), server: need('WEFT_APISERVER_URL'), local: true };
}

/** Starts a PRIVATE harness instance in `dir` (its own etcd, API server and ports). */
export async function privateClusterUp(dir: string): Promise<ClusterEnv> {
  await run('bash', [join(repoRoot, 'e2e/cluster/up.sh')], {
    env: { ...process.env, WEFT_CLUSTER_DIR: dir, WEFT_NODE: '0' },
    maxBuffer: 16 << 20,
    timeout: 170_000,
  });
  return readClusterEnv(dir);
}

export async function clusterDown(dir: string): Promise<void> {
  await run('bash', [join(repoRoot, 'e2e/cluster/down.sh'), '--purge'], { env: { ...process.env, WEFT_CLUSTER_DIR: dir }, timeout: 60_000 });
}

export async function kubectl(env: ClusterEnv, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(env.kubectl, ['--kubeconfig', env.kubeconfig, '--request-timeout=20s', ...args], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

export const apply = (env: ClusterEnv, yaml: string): Promise<string> => kubectl(env, ['apply', '-f', '-'], yaml);

/** Applies crds/ and waits until every CRD is Established. */
export async function installCrds(env: ClusterEnv): Promise<void> {
  const dir = join(repoRoot, 'crds');
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  if (files.length === 0) throw new Error('crds/ holds no CRD manifests');
  await kubectl(env, ['apply', '--server-side', '--force-conflicts', '-f', dir]);
  await kubectl(env, ['wait', '--for=condition=Established', '--timeout=60s', '-f', dir]);
}

/**
 * The controller's identity in `namespace`: ServiceAccount `weft` with the RBAC the chart
 * grants, and a kubeconfig that authenticates with a token the API server issued for it
 * (never the admin credentials). Returns the kubeconfig path and a cleanup.
 */
export async function controllerIdentity(env: ClusterEnv, namespace: string, rbacYaml: string): Promise<{ kubeconfig: string; cleanup: () => Promise<void> }> {
  await apply(env, rbacYaml);
  const token = (await kubectl(env, ['create', 'token', 'weft', '-n', namespace, '--duration', '1h'])).trim();
  const admin = loadKubeConfig(env.kubeconfig).getCurrentCluster()!;
  const ca = admin.caData ?? (admin.caFile ? readFileSync(admin.caFile).toString('base64') : undefined);
  const caLine = ca ? `certificate-authority-data: ${ca}` : 'insecure-skip-tls-verify: true';
  const dir = mkdtempSync(join(tmpdir(), 'weft-ctl-'));
  const file = join(dir, 'kubeconfig');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: e2e\n  cluster:\n    server: ${admin.server}\n    ${caLine}`,
      'users:',
      `- name: weft\n  user:\n    token: ${token}`,
      'contexts:',
      `- name: e2e\n  context:\n    cluster: e2e\n    user: weft\n    namespace: ${namespace}`,
      'current-context: e2e',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return {
    kubeconfig: file,
    cleanup: async () => {
      rmSync(dir, { recursive: true, force: true }); // holds a token
      await kubectl(env, ['delete', '--ignore-not-found', '--wait=false', '-f', '-'], rbacYaml).catch(() => {});
    },
  };
}
