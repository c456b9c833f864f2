// Reaching the cluster harness (e2e/cluster/up.sh) from the controller suites: its env file,
// kubectl as admin, unique namespaces, the CRDs, and a least-privilege identity for the
// controller (the chart's ServiceAccount and RBAC, with a token the API server issues).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface ClusterEnv {
  readonly dir: string;
  readonly kubeconfig: string;
  readonly kubectl: string;
  readonly helm: string;
  readonly server: string;
  readonly caCert: string;
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
  return {
    dir,
    kubeconfig: need('KUBECONFIG'),
    kubectl: need('WEFT_KUBECTL'),
    helm: need('WEFT_HELM'),
    server: need('WEFT_APISERVER_URL'),
    caCert: need('WEFT_CA_CERT'),
  };
}

/** Starts (or reuses) a cluster: the shared one by default, a private one with `dir`. */
export async function clusterUp(dir?: string): Promise<ClusterEnv> {
  const env = { ...process.env, ...(dir ? { WEFT_CLUSTER_DIR: dir } : {}) };
  const { stdout } = await run('bash', [join(repoRoot, 'e2e/cluster/up.sh')], { env, maxBuffer: 16 << 20, timeout: 170_000 });
  const kubeconfig = stdout.trim().split('\n').at(-1)!;
  return readClusterEnv(dir ?? join(kubeconfig, '..'));
}

export async function clusterDown(dir: string): Promise<void> {
  await run('bash', [join(repoRoot, 'e2e/cluster/down.sh'), '--purge'], { env: { ...process.env, WEFT_CLUSTER_DIR: dir }, timeout: 60_000 });
}

export function defaultClusterDir(): string {
  return process.env.WEFT_CLUSTER_DIR ?? join(process.env.WEFT_CACHE ?? join(homedir(), '.cache/weft'), 'cluster');
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

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36).slice(-4)}${Math.random().toString(36).slice(2, 6)}`;
}

/** Applies crds/ and waits until every CRD is Established. */
export async function installCrds(env: ClusterEnv): Promise<void> {
  const dir = process.env.WEFT_E2E_CRDS_DIR ?? join(repoRoot, 'crds'); // TEMP until crds/ lands
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  if (files.length === 0) {
    // crds/ not written yet: accept CRDs someone already installed (development only).
    await kubectl(env, ['get', 'crd', 'trafficsplits.mesh.weft.dev', 'retrypolicies.mesh.weft.dev', 'peerauths.mesh.weft.dev']);
    return;
  }
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
  const ca = readFileSync(env.caCert).toString('base64');
  const file = join(mkdtempSync(join(tmpdir(), 'weft-ctl-')), 'kubeconfig');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: e2e\n  cluster:\n    server: ${env.server}\n    certificate-authority-data: ${ca}`,
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
      await kubectl(env, ['delete', '--ignore-not-found', '--wait=false', '-f', '-'], rbacYaml).catch(() => {});
    },
  };
}
