// The shop demo (examples/shop) on the node cluster, for the traffic tests: apply it into a
// namespace a Weft release injects, drive its client (`node /shop/shop.ts load` through
// `kubectl exec` in the client Pod), read the sidecars' Envoy stats, and look at Pods.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { WEFT_VERSION } from '../../../webhook/values.ts';
import { repoRoot, run } from '../../support/kube.ts';
import { napply, nk, nkJson, nodeCluster } from '../../node/support.ts';

export const SHOP = 'shop';
export const CHECKOUT_URL = 'http://checkout.shop.svc.cluster.local:8080/';

/** The summary line of examples/shop/app/load.ts. */
export interface LoadSummary {
  requests: number;
  ok: Record<string, number>;
  errors: Record<string, number>;
  seconds: number;
  firstErrors: { t: string; error: string }[];
}

export const failures = (s: LoadSummary): number => Object.values(s.errors).reduce((a, b) => a + b, 0);
export const share = (s: LoadSummary, version: string): number => (s.ok[version] ?? 0) / Math.max(1, s.requests);

/** `kubectl kustomize examples/shop` with `labels` added to the Namespace (e.g. a confined release's). */
export async function shopDocs(labels: Readonly<Record<string, string>>): Promise<object[]> {
  const built = await nk(['kustomize', join(repoRoot, 'examples/shop')]);
  return parseAllDocuments(built.stdout)
    .map((d) => d.toJS() as { kind?: string; metadata?: { labels?: Record<string, string> } } | null)
    .filter((d): d is { kind?: string; metadata?: { labels?: Record<string, string> } } => d !== null)
    .map((d) => (d.kind === 'Namespace' && d.metadata ? { ...d, metadata: { ...d.metadata, labels: { ...d.metadata.labels, ...labels } } } : d));
}

export async function applyShop(labels: Readonly<Record<string, string>>): Promise<void> {
  const docs = await shopDocs(labels);
  // The Namespace first, so the webhook sees its labels before any Pod is created.
  await napply(docs.filter((d) => (d as { kind?: string }).kind === 'Namespace'));
  await napply(docs.filter((d) => (d as { kind?: string }).kind !== 'Namespace'));
}

export interface PodInfo {
  metadata: { name: string; namespace: string; uid: string; creationTimestamp: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: {
    initContainers?: { name: string; restartPolicy?: string }[];
    containers: { name: string }[];
    volumes?: { name: string; projected?: { sources: { serviceAccountToken?: { audience: string; path: string } }[] } }[];
  };
  status: {
    phase: string;
    podIP?: string;
    conditions?: { type: string; status: string; lastTransitionTime: string }[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}
export interface ContainerStatus {
  name: string;
  containerID?: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state: { running?: { startedAt: string }; waiting?: { reason?: string }; terminated?: { exitCode: number; startedAt: string; finishedAt: string } };
}

/** The Pods matching `selector`; terminating ones only with `terminating: true`. */
export async function pods(namespace: string, selector: string, opts: { terminating?: boolean } = {}): Promise<PodInfo[]> {
  const items = (await nkJson<{ items: PodInfo[] }>(['get', 'pods', '-n', namespace, '-l', selector])).items;
  return opts.terminating ? items : items.filter((p) => !p.metadata.deletionTimestamp);
}

export const statusOf = (p: PodInfo, name: string): ContainerStatus | undefined =>
  [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])].find((c) => c.name === name);

export const restarts = (p: PodInfo): number =>
  [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])].reduce((a, c) => a + c.restartCount, 0);

/** The client Pod's name (Deployment `client`). */
export async function clientPod(namespace = SHOP): Promise<string> {
  const [p] = await pods(namespace, 'app=client');
  if (!p) throw new Error(`no client Pod in ${namespace}`);
  return p.metadata.name;
}

function loadArgs(opts: { url?: string; rate?: number; concurrency?: number }): string[] {
  return [
    'node',
    '/shop/shop.ts',
    'load',
    '--url',
    opts.url ?? CHECKOUT_URL,
    '--rate',
    String(opts.rate ?? 200),
    '--concurrency',
    String(opts.concurrency ?? 8),
  ];
}

function parseSummary(stdout: string): LoadSummary {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  const s = JSON.parse(last) as LoadSummary & { summary?: boolean };
  if (!s.summary) throw new Error(`no load summary in: ${stdout.slice(-500)}`);
  return s;
}

/** `count` requests from the in-mesh client (or another Pod), bounded in time; returns the summary. */
export async function load(
  count: number,
  opts: { namespace?: string; pod?: string; url?: string; rate?: number; concurrency?: number; timeoutMs?: number } = {},
): Promise<LoadSummary> {
  const namespace = opts.namespace ?? SHOP;
  const pod = opts.pod ?? (await clientPod(namespace));
  const r = await nk(['-n', namespace, 'exec', pod, '--', ...loadArgs(opts), '--count', String(count), '--timeout-ms', String(opts.timeoutMs ?? 5000)], {
    timeoutMs: 300_000,
  });
  return parseSummary(r.stdout);
}

/** A load that runs until stop() (its stdin closes); per-second lines are kept for diagnosis. */
export async function startLoad(opts: { rate?: number; concurrency?: number } = {}): Promise<{ stop: () => Promise<LoadSummary & { perSecond: string[] }> }> {
  const c = await nodeCluster();
  const pod = await clientPod();
  const child = spawn(c.kubectl, ['--kubeconfig', c.kubeconfig, '-n', SHOP, 'exec', '-i', pod, '--', ...loadArgs(opts), '--until-eof'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 128)));
  return {
    async stop() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`load exited ${code}: ${stderr.slice(-1000)} ${stdout.slice(-1000)}`);
      return { ...parseSummary(stdout), perSecond: stdout.trim().split('\n').slice(0, -1) };
    },
  };
}

/** Sets the share of 503s of every checkout Pod (serve's admin port, via exec). */
export async function setFailPercent(percent: number): Promise<void> {
  for (const p of await pods(SHOP, 'app=checkout')) {
    await nk(['-n', SHOP, 'exec', p.metadata.name, '--', 'node', '/shop/shop.ts', 'fail', String(percent)]);
  }
}

/** A sidecar's Prometheus stats (port 15090, never captured; the host reaches Pod IPs on the bridge). */
export async function envoyStats(podIP: string): Promise<Map<string, number>> {
  const res = await fetch(`http://${podIP}:15090/stats/prometheus`, { signal: AbortSignal.timeout(10_000) });
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/**
 * Sum of the series whose text (name and labels) contains every part (or matches it). Envoy's tag
 * extraction cuts a cluster name at its first dot, so `outbound|8080||checkout-v1.shop…`
 * shows up partly in the metric name, partly in a label: match on substrings.
 */
export function statSum(stats: Map<string, number>, ...parts: (string | RegExp)[]): number {
  let sum = 0;
  for (const [k, v] of stats) if (parts.every((p) => (typeof p === 'string' ? k.includes(p) : p.test(k)))) sum += v;
  return sum;
}

/** Waits for the Pod's Ready condition; on timeout the error carries `kubectl describe`. */
export async function waitPodReady(namespace: string, name: string, timeoutMs = 120_000): Promise<void> {
  const r = await nk(['-n', namespace, 'wait', '--for=condition=Ready', `pod/${name}`, `--timeout=${Math.round(timeoutMs / 1000)}s`], {
    timeoutMs: timeoutMs + 30_000,
    allowFailure: true,
  });
  if (r.code === 0) return;
  const described = await nk(['-n', namespace, 'describe', 'pod', name], { allowFailure: true });
  throw new Error(`pod ${namespace}/${name} not Ready: ${r.stderr}\n${described.stdout.slice(-4000)}`);
}

/**
 * A Pod running the checkout program from the weft image, with a readiness probe, in any
 * namespace (it needs the shop-app ConfigMap there: see copyShopApp).
 */
export function checkoutPod(name: string, opts: { labels?: Record<string, string>; version?: string; schedulingGates?: string[] } = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: opts.labels ?? { app: name } },
    spec: {
      terminationGracePeriodSeconds: 2,
      ...(opts.schedulingGates ? { schedulingGates: opts.schedulingGates.map((g) => ({ name: g })) } : {}),
      containers: [
        {
          name: 'app',
          image: `ghcr.io/weft-mesh/weft:${WEFT_VERSION}`,
          imagePullPolicy: 'IfNotPresent',
          command: ['/usr/local/bin/node', '/shop/shop.ts', 'serve', '--version', opts.version ?? name],
          ports: [{ name: 'http', containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 1 },
          livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 2, failureThreshold: 2 },
          securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          volumeMounts: [{ name: 'app', mountPath: '/shop', readOnly: true }],
        },
      ],
      volumes: [{ name: 'app', configMap: { name: 'shop-app' } }],
    },
  };
}

/** The shop program as ConfigMap shop-app in `namespace` (the kustomization names its own with a hash). */
export async function copyShopApp(namespace: string): Promise<void> {
  const created = await nk([
    '-n',
    namespace,
    'create',
    'configmap',
    'shop-app',
    `--from-file=${join(repoRoot, 'examples/shop/app')}`,
    '--dry-run=client',
    '-o',
    'yaml',
  ]);
  await nk(['-n', namespace, 'apply', '-f', '-'], { input: created.stdout });
}

/** The host PID of a running container of the Pod (to enter its network namespace). */
export async function containerPid(p: PodInfo, container: string): Promise<number> {
  const c = await nodeCluster();
  const id = statusOf(p, container)?.containerID?.replace(/^containerd:\/\//, '');
  if (!id || !c.env.WEFT_CTR || !c.env.WEFT_CONTAINERD_SOCK) throw new Error(`no container id for ${p.metadata.name}/${container}`);
  const tasks = await run(c.env.WEFT_CTR, ['--address', c.env.WEFT_CONTAINERD_SOCK, '-n', 'k8s.io', 'tasks', 'ls']);
  const line = tasks.stdout.split('\n').find((l) => l.startsWith(id));
  const pid = Number(line?.split(/\s+/)[1]);
  if (!pid) throw new Error(`no task for container ${id}`);
  return pid;
}
