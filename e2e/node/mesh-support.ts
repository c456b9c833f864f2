// A Weft mesh on the real node, for the sidecar suites: Weft's own proxy image (one image for
// weft-init and weft-proxy, built without Docker by scripts/images/build.sh from
// images/weft-proxy/image.json and imported into the node's containerd; the chart's default
// image names), an app image with busybox, the chart in external mode and `weft controller` on the host (webhook by URL, TLS xDS on the
// bridge address). Sidecars reach xDS the way they would in a cluster: the injected address
// <release>.<ns>.svc:15012, through CoreDNS and kube-proxy, to a selector-less Service whose
// EndpointSlice points at the controller — created and deleted by the test, which makes the
// control plane reachable or not for the Pods without touching the webhook.
import { join } from 'node:path';
import { PROXY_IMAGE } from '../../webhook/values.ts';
import { installAndRun, waitUntilInjecting, type InjectEnv } from '../inject/support.ts';
import { apply, kubectl, kubectlJson, repoRoot, run, tempNamespace } from '../support/kube.ts';
import { debianImage, importImage, nodeCluster, nodeClusterDir, nodeSuitesEnabled, type NodeCluster } from './support.ts';

// e2e/support/kube.ts (kubectl, helm, namespaces) and the injection helpers talk to the
// cluster in WEFT_CLUSTER_DIR: make that the node cluster for files importing this module.
if (nodeSuitesEnabled) process.env.WEFT_CLUSTER_DIR = nodeClusterDir();

export const APP_IMAGE = 'weft.local/e2e-busybox:1';
const XDS_SERVICE_PORT = 15012;

export interface ContainerStatus {
  name: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state: {
    running?: { startedAt: string };
    waiting?: { reason?: string };
    terminated?: { startedAt: string; finishedAt: string; exitCode: number; reason?: string };
  };
}
export interface PodStatus {
  metadata: { name: string };
  status: {
    phase: string;
    podIP?: string;
    conditions?: { type: string; status: string; lastTransitionTime: string }[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

export const statusOf = (p: PodStatus, name: string): ContainerStatus | undefined =>
  [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])].find((c) => c.name === name);
export const seconds = (iso: string | undefined): number => (iso ? Date.parse(iso) / 1000 : NaN);
export const conditionOf = (p: PodStatus, type: string) => p.status.conditions?.find((x) => x.type === type);

export interface NodeMesh {
  readonly cluster: NodeCluster;
  readonly env: InjectEnv;
  /** A namespace labelled for injection by this release. */
  readonly ns: string;
  /** The xDS Service gets its endpoint (the controller on the host). */
  openControlPlane(): Promise<void>;
  /** The xDS Service loses it: Pods cannot reach the control plane. */
  closeControlPlane(): Promise<void>;
  close(): Promise<void>;
}

export async function buildImages(): Promise<void> {
  const t0 = Date.now();
  const proxy = async () => {
    const built = await run('bash', [join(repoRoot, 'scripts/images/build.sh'), 'weft-proxy', '--no-import'], { timeoutMs: 1_800_000 });
    const [, ref, tar] = built.stdout.trim().split('\n').at(-1)?.split(/\s+/) ?? [];
    if (ref !== PROXY_IMAGE || !tar) throw new Error(`scripts/images/build.sh built ${ref ?? 'nothing'}, the chart injects ${PROXY_IMAGE}`);
    await importImage(tar);
  };
  await Promise.all([debianImage(APP_IMAGE, 'busybox', ['--user', '65532:65532']), proxy()]);
  console.log(`[node mesh] images ready in ${Date.now() - t0} ms`);
}

/** The mesh with the control plane not yet reachable from Pods. `injection` adds chart injection values. */
export async function nodeMesh(prefix: string, injection: Readonly<Record<string, unknown>> = {}): Promise<NodeMesh> {
  const cluster = await nodeCluster();
  // The node cluster is shared: another suite may have cordoned the node (a drain test); Pods
  // would only sit Pending, so say so at once.
  const nodes = await kubectlJson<{ items: { metadata: { name: string }; spec: { unschedulable?: boolean } }[] }>(['get', 'nodes']);
  const cordoned = nodes.items.filter((n) => n.spec.unschedulable === true).map((n) => n.metadata.name);
  if (cordoned.length > 0)
    throw new Error(`node ${cordoned.join(', ')} of ${cluster.dir} is cordoned (another suite is draining it): Pods could not be scheduled`);
  await buildImages();
  const bridge = cluster.env.WEFT_BRIDGE_IP ?? '';
  const env = await installAndRun(prefix, ['--xds-address', `${bridge}:0`], {
    // The chart's default images; IfNotPresent finds them imported (no registry is reachable).
    ...(Object.keys(injection).length > 0 ? { injection } : {}),
  });
  const service = env.release; // the name the chart's xdsAddress uses
  const slice = `${service}-host`;
  await apply(
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: service },
      spec: { ports: [{ name: 'grpc-xds', port: XDS_SERVICE_PORT, targetPort: env.ctl.xdsPort, protocol: 'TCP' }] },
    },
    { namespace: env.cpNs },
  );
  const ns = await tempNamespace(`${prefix}-app`, { 'weft.dev/inject': 'enabled', ...env.confine });
  await waitUntilInjecting(ns);
  return {
    cluster,
    env,
    ns,
    async openControlPlane() {
      await apply(
        {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { name: slice, labels: { 'kubernetes.io/service-name': service } },
          addressType: 'IPv4',
          ports: [{ name: 'grpc-xds', port: env.ctl.xdsPort, protocol: 'TCP' }],
          endpoints: [{ addresses: [bridge] }],
        },
        { namespace: env.cpNs },
      );
    },
    async closeControlPlane() {
      await kubectl(['delete', 'endpointslice', slice, '-n', env.cpNs, '--ignore-not-found']);
    },
    close: () => env.close(),
  };
}

/** What the kubelet gets from a Pod's sidecar readiness port (15021). */
export async function sidecarProbe(podIP: string, path: string): Promise<number | 'no answer'> {
  try {
    return (await fetch(`http://${podIP}:15021${path}`, { signal: AbortSignal.timeout(2_000) })).status;
  } catch {
    return 'no answer';
  }
}

/** A Pod whose app serves /healthz on 8080, probed for liveness and readiness (both rewritten to the sidecar). */
export function webPod(name: string, liveness: { periodSeconds: number; failureThreshold: number }): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: name } },
    spec: {
      terminationGracePeriodSeconds: 5,
      containers: [
        {
          name: 'app',
          image: APP_IMAGE,
          imagePullPolicy: 'Never',
          command: ['sh', '-c', 'mkdir -p /tmp/www && echo ok >/tmp/www/healthz && exec busybox httpd -f -p 8080 -h /tmp/www'],
          ports: [{ name: 'http', containerPort: 8080 }],
          livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, ...liveness },
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
        },
      ],
    },
  };
}
