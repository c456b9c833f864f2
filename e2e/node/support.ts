// Helpers for tests on the real node of e2e/cluster (WEFT_NODE=1): find or start the node
// cluster, run kubectl against it, build and import images. One node runs per host, so
// every test file shares the same node cluster: use unique namespaces and delete them.
//
// Which cluster: WEFT_NODE_CLUSTER_DIR (scripts/test.sh sets it), else the developer's
// `make cluster-up` one in $WEFT_CACHE/node-cluster. WEFT_NODE=0 in the environment skips
// the node suites.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, run, toYaml, uniqueName, type RunOptions, type RunResult } from '../support/kube.ts';

export interface NodeCluster {
  readonly dir: string;
  readonly kubeconfig: string;
  readonly kubectl: string;
  /** Every WEFT_* variable of the cluster's env file (WEFT_CONTAINERD_SOCK, WEFT_BRIDGE_IP, ...). */
  readonly env: Readonly<Record<string, string>>;
}

export const nodeSuitesEnabled = process.env.WEFT_NODE !== '0' && process.getuid?.() === 0;

export const cacheDir = process.env.WEFT_CACHE ?? join(homedir(), '.cache', 'weft');

export function nodeClusterDir(): string {
  return process.env.WEFT_NODE_CLUSTER_DIR ?? join(cacheDir, 'node-cluster');
}

async function readEnv(file: string): Promise<Record<string, string>> {
  const r = await run('bash', ['-c', 'set -a; . "$1"; env -0', '_', file], { env: {} });
  const vars: Record<string, string> = {};
  for (const entry of r.stdout.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0 && entry.startsWith('WEFT_')) vars[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return vars;
}

let current: Promise<NodeCluster> | undefined;

/** The node cluster, started (idempotently) with e2e/cluster/up.sh. Memoized per process. */
export function nodeCluster(): Promise<NodeCluster> {
  current ??= (async () => {
    const dir = nodeClusterDir();
    const up = await run('bash', [join(repoRoot, 'e2e/cluster/up.sh')], {
      env: { WEFT_NODE: '1', WEFT_CLUSTER_DIR: dir },
      timeoutMs: 1_800_000,
      allowFailure: true,
    });
    const envFile = join(dir, 'env');
    if (up.code !== 0 || !existsSync(envFile)) throw new Error(`e2e/cluster/up.sh (WEFT_NODE=1) failed (exit ${up.code}):\n${up.stderr.slice(-4000)}`);
    const env = await readEnv(envFile);
    if (env.WEFT_NODE !== '1' || !env.WEFT_KUBECONFIG || !env.WEFT_KUBECTL) throw new Error(`${envFile} is not a node cluster's env`);
    return { dir, kubeconfig: env.WEFT_KUBECONFIG, kubectl: env.WEFT_KUBECTL, env };
  })().catch((e: unknown) => {
    current = undefined;
    throw e;
  });
  return current;
}

/** kubectl against the node cluster. */
export async function nk(args: readonly string[], opts?: RunOptions): Promise<RunResult> {
  const c = await nodeCluster();
  return run(c.kubectl, ['--kubeconfig', c.kubeconfig, '--request-timeout=30s', ...args], opts);
}

export async function nkJson<T = unknown>(args: readonly string[]): Promise<T> {
  return JSON.parse((await nk([...args, '-o', 'json'])).stdout) as T;
}

export async function napply(docs: string | object | readonly object[], namespace?: string): Promise<void> {
  await nk(['apply', '-f', '-', ...(namespace ? ['-n', namespace] : [])], { input: toYaml(docs) });
}

/** A namespace on the node cluster; the returned function deletes it (Pods stop for real). */
export async function nodeNamespace(prefix: string): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = uniqueName(prefix);
  await napply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'weft.dev/e2e': 'true' } } });
  return { name, remove: async () => void (await nk(['delete', 'namespace', name, '--wait=false'], { allowFailure: true })) };
}

/**
 * A cached Debian minbase image with the given packages (scripts/images/debian-image.sh),
 * imported into the node's containerd. Returns the image ref.
 */
export async function debianImage(ref: string, packages: string, packOptions: readonly string[] = []): Promise<string> {
  const built = await run('bash', [join(repoRoot, 'scripts/images/debian-image.sh'), ref, '--packages', packages, ...packOptions], { timeoutMs: 900_000 });
  await importImage(built.stdout.trim());
  return ref;
}

/** scripts/images/import.sh TAR into the node cluster's containerd. */
export async function importImage(tar: string): Promise<void> {
  const c = await nodeCluster();
  await run('bash', [join(repoRoot, 'scripts/images/import.sh'), tar], { env: { WEFT_CLUSTER_DIR: c.dir }, timeoutMs: 300_000 });
}

/** `kubectl exec POD -- sh -c SCRIPT` in the node cluster. */
export async function execIn(namespace: string, pod: string, script: string, opts?: RunOptions): Promise<RunResult> {
  return nk(['-n', namespace, 'exec', pod, '--', 'sh', '-c', script], opts);
}
