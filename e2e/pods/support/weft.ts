// Weft installed IN the node cluster by its chart, as a user installs it: the controller runs
// as Pods from the project's own image, the real API server calls the webhook through its
// Service, sidecars dial xDS over TLS through the xDS Service.
//
// API (every function uses the node cluster of e2e/node/support.ts: nodeCluster()):
//   weftImages()            build both images (scripts/images/build.sh, cached by content) and
//                           import them into the node's containerd; returns refs and tars.
//   installWeft(opts?)      helm install charts/weft (2 replicas, leader election, PDB), then
//                           waitWeftReady(); returns a WeftRelease. By default the release is
//                           CONFINED: its own namespace, its webhooks match only namespaces
//                           labelled with its own label, and its controller sees only those
//                           namespaces (--discovery-selector), so several releases (several
//                           test files) can share one node cluster without fighting over
//                           Pods or CR status. `confine: false` installs the plain chart
//                           (what a user and `make demo-cluster` get).
//   rel.meshNamespace(p)    a namespace this release injects into (weft.dev/inject=enabled plus
//                           the confinement label); the returned remove() deletes it.
//   rel.meshLabels          the labels such a namespace needs (to label one of your own).
//   rel.waitReady()         controller Pods Ready (all replicas), a Lease holder, and the webhook
//                           answering the API server (a server-side dry-run Pod comes back with
//                           the weft-proxy sidecar).
//   rel.upgrade(set)        helm upgrade --reuse-values --set ..., then rollout status + waitReady.
//   rel.leader()            the Lease holder's identity (Pod name) and its acquire/renew times.
//   rel.pods()              the controller Pods (name, uid, ready, image).
//   rel.uninstall()         helm uninstall --wait; deletes the release namespace (with the root
//                           CA Secret and the Lease, which Helm does not own) unless keepNamespace.
// Images are tagged ghcr.io/weft-mesh/weft{,-proxy}:<appVersion> (imagePullPolicy IfNotPresent).
// retagWeftImage(tag) adds another tag to the imported controller image (for helm upgrade tests).
import { join } from 'node:path';
import { eventually, repoRoot, run, toYaml, uniqueName, type RunOptions, type RunResult } from '../../support/kube.ts';
import { napply, nk, nkJson, nodeCluster } from '../../node/support.ts';

export const chartDir = join(repoRoot, 'charts/weft');

export interface WeftImages {
  /** ghcr.io/weft-mesh/weft:<version> */
  readonly weft: string;
  /** ghcr.io/weft-mesh/weft-proxy:<version> (sidecar and init container) */
  readonly proxy: string;
  readonly tars: Readonly<Record<string, string>>;
}

let images: Promise<WeftImages> | undefined;

/** Builds (cached by content) and imports Weft's images into the node's containerd. Memoized per process. */
export function weftImages(): Promise<WeftImages> {
  images ??= (async () => {
    const c = await nodeCluster();
    // build.sh prints `<name> <ref> <tar> compressed=... unpacked=...` per image; --import loads
    // them into the containerd named by the cluster env (WEFT_CLUSTER_DIR).
    const r = await run('bash', [join(repoRoot, 'scripts/images/build.sh'), '--import'], { env: { WEFT_CLUSTER_DIR: c.dir }, timeoutMs: 1_800_000 });
    const refs: Record<string, string> = {};
    const tars: Record<string, string> = {};
    for (const line of r.stdout.split('\n')) {
      const [name, ref, tar] = line.split(' ');
      if (name && ref && tar) {
        refs[name] = ref;
        tars[name] = tar;
      }
    }
    if (!refs.weft || !refs['weft-proxy']) throw new Error(`scripts/images/build.sh printed no weft/weft-proxy lines:\n${r.stdout}\n${r.stderr.slice(-2000)}`);
    return { weft: refs.weft, proxy: refs['weft-proxy'], tars };
  })().catch((e: unknown) => {
    images = undefined;
    throw e;
  });
  return images;
}

/** Tags the imported controller image as `<repository>:<tag>` in the node's containerd (a "new version" without a rebuild). */
export async function retagWeftImage(tag: string): Promise<string> {
  const c = await nodeCluster();
  const { weft } = await weftImages();
  const target = `${weft.slice(0, weft.lastIndexOf(':'))}:${tag}`;
  const ctr = c.env.WEFT_CTR;
  const sock = c.env.WEFT_CONTAINERD_SOCK;
  if (!ctr || !sock) throw new Error('the node cluster env names no WEFT_CTR / WEFT_CONTAINERD_SOCK');
  await run(ctr, ['--address', sock, '-n', 'k8s.io', 'images', 'tag', '--force', weft, target]);
  return target;
}

/** helm against the node cluster. */
export async function nhelm(args: readonly string[], opts?: RunOptions): Promise<RunResult> {
  const c = await nodeCluster();
  const helmBin = c.env.WEFT_HELM;
  if (!helmBin) throw new Error('the node cluster env names no WEFT_HELM');
  return run(helmBin, ['--kubeconfig', c.kubeconfig, ...args], { timeoutMs: 300_000, ...opts });
}

export interface InstallOptions {
  /** Release name (default: a unique weft-<suffix>); the objects are named after it. */
  readonly release?: string;
  /** Release namespace (default: the release name; created). */
  readonly namespace?: string;
  /** Confine webhooks and discovery to namespaces carrying this release's label (default true). */
  readonly confine?: boolean;
  /** Extra `--set k=v` values. */
  readonly set?: Readonly<Record<string, string>>;
  /** Wait for Ready Pods, a leader and a webhook answer (default true). */
  readonly wait?: boolean;
  /** Extra controller flags (controller.extraArgs, after the confinement's --discovery-selector). */
  readonly controllerArgs?: readonly string[];
}

export interface ControllerPod {
  readonly name: string;
  readonly uid: string;
  readonly ready: boolean;
  readonly image: string;
  readonly ip?: string;
  readonly deleting: boolean;
}

export interface LeaseInfo {
  readonly holder?: string;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly transitions: number;
}

export interface WeftRelease {
  readonly release: string;
  readonly namespace: string;
  /** Base name of the objects (Deployment, Services, ServiceAccount, ClusterRole). */
  readonly fullname: string;
  /** Labels a namespace needs to be injected by this release. */
  readonly meshLabels: Readonly<Record<string, string>>;
  readonly leaseName: string;
  meshNamespace(prefix: string): Promise<{ name: string; remove: () => Promise<void> }>;
  waitReady(timeoutMs?: number): Promise<void>;
  upgrade(set: Readonly<Record<string, string>>): Promise<void>;
  pods(): Promise<ControllerPod[]>;
  leader(): Promise<LeaseInfo>;
  uninstall(opts?: { keepNamespace?: boolean }): Promise<void>;
}

const setArgs = (set: Readonly<Record<string, string>>): string[] => Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${v}`]);

/** helm install charts/weft into the node cluster and (by default) wait until it serves. */
export async function installWeft(opts: InstallOptions = {}): Promise<WeftRelease> {
  await weftImages();
  const release = opts.release ?? uniqueName('weft');
  const namespace = opts.namespace ?? release;
  const confine = opts.confine ?? true;
  const fullname = release.includes('weft') ? release : `${release}-weft`;
  const confineLabel = 'weft.dev/e2e-release';
  const meshLabels: Record<string, string> = { 'weft.dev/inject': 'enabled', ...(confine ? { [confineLabel]: release } : {}) };
  const extraArgs = [...(confine ? [`--discovery-selector=${confineLabel}=${release}`] : []), ...(opts.controllerArgs ?? [])];
  const confineArgs = [
    ...(confine ? ['--set', `webhooks.namespaceSelector.matchLabels.${confineLabel.replace(/\./g, '\\.')}=${release}`] : []),
    // --set-json: the argument holds '=' twice.
    ...(extraArgs.length > 0 ? ['--set-json', `controller.extraArgs=${JSON.stringify(extraArgs)}`] : []),
  ];
  await nhelm(['install', release, chartDir, '-n', namespace, '--create-namespace', ...confineArgs, ...setArgs(opts.set ?? {})]);
  const leaseName = 'weft-controller';

  const rel: WeftRelease = {
    release,
    namespace,
    fullname,
    meshLabels,
    leaseName,
    async meshNamespace(prefix) {
      const name = uniqueName(prefix);
      await napply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'weft.dev/e2e': 'true', ...meshLabels } } });
      return { name, remove: async () => void (await nk(['delete', 'namespace', name, '--wait=false'], { allowFailure: true })) };
    },
    waitReady: (timeoutMs = 180_000) => waitReady(rel, timeoutMs),
    async upgrade(set) {
      await nhelm(['upgrade', release, chartDir, '-n', namespace, '--reuse-values', ...setArgs(set)]);
      await nk(['-n', namespace, 'rollout', 'status', `deployment/${fullname}`, '--timeout=180s'], { timeoutMs: 200_000 });
      await waitReady(rel, 180_000);
    },
    pods: () => controllerPods(rel),
    leader: () => lease(namespace, leaseName),
    async uninstall(u = {}) {
      await nhelm(['uninstall', release, '-n', namespace, '--wait', '--timeout=120s', '--ignore-not-found'], { allowFailure: true, timeoutMs: 150_000 });
      if (!u.keepNamespace) await nk(['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found'], { allowFailure: true });
    },
  };
  if (opts.wait ?? true) await rel.waitReady();
  return rel;
}

interface PodJson {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { containers: { name: string; image: string }[]; initContainers?: { name: string }[] };
  status: { podIP?: string; conditions?: { type: string; status: string }[] };
}

async function controllerPods(rel: WeftRelease): Promise<ControllerPod[]> {
  const list = await nkJson<{ items: PodJson[] }>([
    'get',
    'pods',
    '-n',
    rel.namespace,
    '-l',
    `app.kubernetes.io/instance=${rel.release},app.kubernetes.io/component=controller`,
  ]);
  return list.items.map((p) => ({
    name: p.metadata.name,
    uid: p.metadata.uid,
    ready: p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    image: p.spec.containers[0]?.image ?? '',
    ...(p.status.podIP ? { ip: p.status.podIP } : {}),
    deleting: p.metadata.deletionTimestamp !== undefined,
  }));
}

async function lease(namespace: string, name: string): Promise<LeaseInfo> {
  const r = await nk(['get', 'lease', name, '-n', namespace, '-o', 'json'], { allowFailure: true });
  if (r.code !== 0) return { transitions: 0 };
  const spec = (JSON.parse(r.stdout) as { spec: { holderIdentity?: string; acquireTime?: string; renewTime?: string; leaseTransitions?: number } }).spec;
  return {
    ...(spec.holderIdentity ? { holder: spec.holderIdentity } : {}),
    ...(spec.acquireTime ? { acquireTime: spec.acquireTime } : {}),
    ...(spec.renewTime ? { renewTime: spec.renewTime } : {}),
    transitions: spec.leaseTransitions ?? 0,
  };
}

/** The Pod a webhook answer is judged on: nothing runs it (server-side dry run). */
function probePod(): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'weft-webhook-probe' },
    spec: { containers: [{ name: 'app', image: 'weft.local/none:0', ports: [{ containerPort: 8080 }] }] },
  };
}

/** True when a server-side dry-run Pod create in `namespace` comes back injected. */
export async function webhookInjects(namespace: string): Promise<boolean> {
  const r = await nk(['create', '--dry-run=server', '-n', namespace, '-f', '-', '-o', 'json'], { input: toYaml(probePod()), allowFailure: true });
  if (r.code !== 0) return false;
  const pod = JSON.parse(r.stdout) as PodJson;
  return [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].some((c) => c.name === 'weft-proxy');
}

async function waitReady(rel: WeftRelease, timeoutMs: number): Promise<void> {
  const deploy = await nkJson<{ spec: { replicas: number } }>(['get', 'deployment', rel.fullname, '-n', rel.namespace]);
  await eventually(() => controllerPods(rel), {
    until: (pods) => pods.filter((p) => p.ready && !p.deleting).length >= deploy.spec.replicas,
    timeoutMs,
    what: `${deploy.spec.replicas} Ready controller Pods of ${rel.release}`,
  });
  await eventually(() => lease(rel.namespace, rel.leaseName), { until: (l) => l.holder !== undefined, timeoutMs, what: `a holder of Lease ${rel.leaseName}` });
  // The API server reaches the webhook through its Service (and trusts the caBundle the
  // leader wrote): probed in a throwaway namespace this release injects into.
  const probe = await rel.meshNamespace('weft-probe');
  try {
    await eventually(() => webhookInjects(probe.name), { until: (ok) => ok, timeoutMs, what: `the ${rel.release} webhook injecting a dry-run Pod` });
  } finally {
    await probe.remove();
  }
}
