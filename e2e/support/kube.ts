// Helpers for end-to-end tests against a real Kubernetes API server: find (or start)
// the local control plane of e2e/cluster/up.sh, run kubectl and helm with its
// kubeconfig, apply YAML, make throwaway namespaces, wait for conditions, and check
// RBAC by impersonation.
//
// Which cluster: WEFT_E2E_KUBECONFIG (any cluster, e.g. kind; kubectl and helm then come
// from WEFT_KUBECTL / WEFT_HELM or PATH) or else the local harness. The harness is
// shared by every test file and every engineer, so: use tempNamespace() for unique
// namespaces, delete what you create, and never stop the cluster from a test.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { requireTier } from '../../test/support/tier.ts';
import { run, type RunOptions, type RunResult } from './run.ts';

export { run, type RunOptions, type RunResult };

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface Cluster {
  readonly kubeconfig: string;
  readonly kubectl: string;
  readonly helm: string;
  /** https://127.0.0.1:PORT for the harness; the kubeconfig's server otherwise. */
  readonly apiserverUrl: string;
  /** Every variable of the harness env file (WEFT_CA_CERT, WEFT_SA_ISSUER, ...); empty for WEFT_E2E_KUBECONFIG. */
  readonly env: Readonly<Record<string, string>>;
  /** True for the local harness (no kubelet: Pods never run, the harness plays the node). */
  readonly local: boolean;
}

function clusterDir(): string {
  const cache = process.env.WEFT_CACHE ?? join(homedir(), '.cache', 'weft');
  return process.env.WEFT_CLUSTER_DIR ?? join(cache, 'cluster');
}

/** The env file is bash (`export K=V` with %q quoting): let bash read it. */
async function readEnvFile(file: string): Promise<Record<string, string>> {
  const r = await run('bash', ['-c', 'set -a; . "$1"; env -0', '_', file], { env: {} });
  const vars: Record<string, string> = {};
  for (const entry of r.stdout.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0 && (entry.startsWith('WEFT_') || entry.startsWith('KUBECONFIG'))) vars[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return vars;
}

/** GET /readyz with the harness CA; anonymous access to it is allowed by default RBAC. */
function apiserverReady(url: string, caFile: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (!existsSync(caFile)) return resolve(false);
    const req = request(`${url}/readyz`, { ca: readFileSync(caFile), timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'ok'));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function localCluster(): Promise<Cluster> {
  const envFile = join(clusterDir(), 'env');
  const load = async (): Promise<Cluster | undefined> => {
    if (!existsSync(envFile)) return undefined;
    const env = await readEnvFile(envFile);
    const { WEFT_KUBECONFIG: kubeconfig, WEFT_KUBECTL: kubectl, WEFT_HELM: helm, WEFT_APISERVER_URL: url, WEFT_CA_CERT: ca } = env;
    if (!kubeconfig || !kubectl || !helm || !url || !ca || !(await apiserverReady(url, ca))) return undefined;
    return { kubeconfig, kubectl, helm, apiserverUrl: url, env, local: true };
  };
  const ready = await load();
  if (ready) return ready;
  // Not running (or not healthy): up.sh is idempotent and holds a lock, so concurrent
  // test files starting it at once is safe; a cold first run builds binaries (minutes).
  // WEFT_NODE=0: these suites play the node themselves; a kubelet would run their Pods.
  const up = await run('bash', [join(repoRoot, 'e2e/cluster/up.sh')], { allowFailure: true, timeoutMs: 1_800_000, env: { WEFT_NODE: '0' } });
  const after = await load();
  if (!after) throw new Error(`e2e/cluster/up.sh did not bring up a healthy cluster (exit ${up.code}):\n${up.stderr.slice(-4000)}`);
  return after;
}

async function externalCluster(kubeconfig: string): Promise<Cluster> {
  const kubectl = process.env.WEFT_KUBECTL ?? 'kubectl';
  const helm = process.env.WEFT_HELM ?? 'helm';
  const server = await run(kubectl, ['--kubeconfig', kubeconfig, 'config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}']);
  return { kubeconfig, kubectl, helm, apiserverUrl: server.stdout.trim(), env: {}, local: false };
}

let current: Promise<Cluster> | undefined;

/** The cluster under test, started with e2e/cluster/up.sh if needed. Memoized per process. */
export function cluster(): Promise<Cluster> {
  requireTier('The Kubernetes API server', 'e2e');
  current ??= (process.env.WEFT_E2E_KUBECONFIG ? externalCluster(process.env.WEFT_E2E_KUBECONFIG) : localCluster()).catch((e: unknown) => {
    current = undefined; // let a later call retry
    throw e;
  });
  return current;
}

let cachedTools: Promise<{ kubectl: string; helm: string }> | undefined;

/**
 * kubectl and helm binaries without needing a cluster (for helm lint/template): the
 * harness cache (scripts/install-k8s.sh builds it once), or WEFT_KUBECTL / WEFT_HELM.
 */
export function tools(): Promise<{ kubectl: string; helm: string }> {
  requireTier('kubectl and helm (built from Go by scripts/install-k8s.sh)', 'e2e');
  cachedTools ??= (async () => {
    if (process.env.WEFT_KUBECTL && process.env.WEFT_HELM) return { kubectl: process.env.WEFT_KUBECTL, helm: process.env.WEFT_HELM };
    // Judged by what it prints, not its exit status (a cleanup trap may fail after success).
    const r = await run('bash', [join(repoRoot, 'scripts/install-k8s.sh')], { timeoutMs: 1_800_000, allowFailure: true });
    const vars = Object.fromEntries(r.stdout.split('\n').map((l) => l.split(/=(.*)/s, 2) as [string, string]));
    if (!vars.WEFT_KUBECTL || !vars.WEFT_HELM)
      throw new Error(`scripts/install-k8s.sh printed no WEFT_KUBECTL/WEFT_HELM (exit ${r.code}):\n${r.stderr.slice(-4000)}`);
    return { kubectl: vars.WEFT_KUBECTL, helm: vars.WEFT_HELM };
  })();
  return cachedTools;
}

/** helm commands that never touch a cluster (lint, template, show): no kubeconfig, no up.sh. */
export async function helmOffline(args: readonly string[], opts?: RunOptions): Promise<RunResult> {
  return run((await tools()).helm, args, opts);
}

/** kubectl against the cluster under test. */
export async function kubectl(args: readonly string[], opts?: RunOptions): Promise<RunResult> {
  const c = await cluster();
  return run(c.kubectl, ['--kubeconfig', c.kubeconfig, '--request-timeout=30s', ...args], opts);
}

/** helm against the cluster under test. */
export async function helm(args: readonly string[], opts?: RunOptions): Promise<RunResult> {
  const c = await cluster();
  return run(c.helm, ['--kubeconfig', c.kubeconfig, ...args], { timeoutMs: 300_000, ...opts });
}

/** `kubectl ... -o json`, parsed. */
export async function kubectlJson<T = unknown>(args: readonly string[]): Promise<T> {
  return JSON.parse((await kubectl([...args, '-o', 'json'])).stdout) as T;
}

/**
 * YAML text, or objects rendered as a multi-document YAML stream. Rendered as YAML 1.1,
 * which is what kubectl and helm parse: strings such as "yes", "on" or "0755" get quoted
 * instead of turning into booleans and numbers on the way in.
 */
export function toYaml(docs: string | object | readonly object[]): string {
  if (typeof docs === 'string') return docs;
  const list = Array.isArray(docs) ? docs : [docs];
  return list.map((d) => stringify(d, { version: '1.1' })).join('---\n');
}

export interface ApplyOptions extends RunOptions {
  namespace?: string;
  /** `server`: full server-side validation and admission, nothing persisted. */
  dryRun?: 'server' | 'client';
  /** Server-side apply (field manager `weft-e2e`), needed for large objects such as CRDs. */
  serverSide?: boolean;
}

/** `kubectl apply -f -`. Pass allowFailure to inspect a rejection (stderr names the fields). */
export async function apply(docs: string | object | readonly object[], opts: ApplyOptions = {}): Promise<RunResult> {
  const args = ['apply', '-f', '-'];
  if (opts.namespace) args.push('-n', opts.namespace);
  if (opts.dryRun) args.push(`--dry-run=${opts.dryRun}`);
  if (opts.serverSide) args.push('--server-side', '--field-manager=weft-e2e', '--force-conflicts');
  return kubectl(args, { ...opts, input: toYaml(docs) });
}

/** A DNS-1123 label `<prefix>-<random>` (≤ 63 characters). */
export function uniqueName(prefix: string): string {
  const suffix = `${Date.now().toString(36).slice(-5)}${Math.random().toString(36).slice(2, 6)}`;
  return `${prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 52)}-${suffix}`;
}

/** Creates a uniquely named namespace labelled `weft.dev/e2e=true` (plus labels). */
export async function createNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = uniqueName(prefix);
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'weft.dev/e2e': 'true', ...labels } } });
  return name;
}

/**
 * Deletes a namespace. Pods are force-deleted first: with no kubelet on the harness a
 * graceful Pod deletion never completes, and would hold the namespace in Terminating.
 */
export async function deleteNamespace(name: string, opts: { wait?: boolean } = {}): Promise<void> {
  const c = await cluster();
  if (c.local) await kubectl(['-n', name, 'delete', 'pods', '--all', '--grace-period=0', '--force', '--wait=false'], { allowFailure: true });
  await kubectl(['delete', 'namespace', name, '--ignore-not-found', `--wait=${opts.wait ?? false}`], { timeoutMs: 180_000 });
}

const temporary = new Set<string>();
// Registered while this module loads, i.e. during the importing test file's collection,
// which is the only time vitest accepts a file-level hook. Outside vitest nothing loads it.
if (process.env.VITEST) {
  const { afterAll } = await import('vitest');
  afterAll(async () => {
    await Promise.all([...temporary].map((ns) => deleteNamespace(ns)));
    temporary.clear();
  });
}

/** createNamespace now; deleted (without waiting) after the calling test file's tests. */
export async function tempNamespace(prefix: string, labels?: Record<string, string>): Promise<string> {
  const name = await createNamespace(prefix, labels);
  temporary.add(name);
  return name;
}

/** `kubectl wait --for=<condition> <resource>`, e.g. ('condition=Established', 'crd/trafficsplits.mesh.weft.dev'). */
export async function waitFor(condition: string, resource: string, opts: { namespace?: string; timeoutMs?: number } = {}): Promise<void> {
  const seconds = Math.ceil((opts.timeoutMs ?? 60_000) / 1000);
  const args = ['wait', `--for=${condition}`, resource, `--timeout=${seconds}s`];
  if (opts.namespace) args.push('-n', opts.namespace);
  await kubectl(args, { timeoutMs: (seconds + 30) * 1000 });
}

/** Retries fn until it returns without throwing (and its value passes `until`), or times out with the last error. */
export async function eventually<T>(
  fn: () => Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number; until?: (v: T) => boolean; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (!opts.until || opts.until(v)) return v;
      last = new Error(`condition not met; last value: ${JSON.stringify(v)?.slice(0, 500)}`);
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}: ${String(last)}`);
    await sleep(opts.intervalMs ?? 250);
  }
}

/**
 * `kubectl auth can-i` as someone else (e.g. `system:serviceaccount:ns:weft`).
 * resource may carry a subresource and name: 'pods', 'trafficsplits.mesh.weft.dev/status', 'secrets/weft-root-ca'.
 */
export async function canI(as: string, verb: string, resource: string, opts: { namespace?: string; subresource?: string } = {}): Promise<boolean> {
  const args = ['auth', 'can-i', verb, resource, '--as', as];
  if (opts.namespace) args.push('-n', opts.namespace);
  if (opts.subresource) args.push('--subresource', opts.subresource);
  const r = await kubectl(args, { allowFailure: true });
  const answer = r.stdout.trim().split('\n')[0];
  if (answer !== 'yes' && answer !== 'no') throw new Error(`kubectl auth can-i ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return answer === 'yes';
}

/** A @kubernetes/client-node KubeConfig for the cluster under test (admin credentials). */
export async function kubeConfig(): Promise<KubeConfig> {
  const kc = new KubeConfig();
  kc.loadFromFile((await cluster()).kubeconfig);
  return kc;
}

/**
 * A kubeconfig that authenticates as a ServiceAccount with a token the API server issues
 * (`kubectl create token`), never admin credentials: run a component, or kubectl, with
 * exactly the RBAC a chart grants. Returns the file path (mode 0600, in a temp dir).
 */
export async function serviceAccountKubeconfig(namespace: string, serviceAccount: string, opts: { duration?: string } = {}): Promise<string> {
  const token = (await kubectl(['create', 'token', serviceAccount, '-n', namespace, `--duration=${opts.duration ?? '1h'}`])).stdout.trim();
  const view = JSON.parse((await kubectl(['config', 'view', '--minify', '--raw', '-o', 'json'])).stdout) as {
    clusters: { cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string } }[];
  };
  const c = view.clusters[0]?.cluster;
  if (!c) throw new Error('kubeconfig has no cluster');
  const ca = c['certificate-authority-data'] ?? (c['certificate-authority'] ? readFileSync(c['certificate-authority']).toString('base64') : undefined);
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server: c.server, ...(ca ? { 'certificate-authority-data': ca } : {}) } }],
    users: [{ name: serviceAccount, user: { token } }],
    contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: serviceAccount, namespace } }],
    'current-context': 'e2e',
  };
  const file = join(mkdtempSync(join(tmpdir(), 'weft-sa-')), 'kubeconfig');
  writeFileSync(file, JSON.stringify(kubeconfig), { mode: 0o600 });
  return file;
}
