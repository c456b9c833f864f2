// Injected Pods on the real node (kubelet, containerd, CNI, kube-proxy, CoreDNS): the chart in
// external mode and `weft controller` on the host (webhook by URL, TLS xDS on the bridge
// address), images built locally (weft-init: Debian + iptables; weft-proxy: Debian + the
// Envoy the tests use). The sidecar reaches xDS the way it would in a cluster: the injected
// address <release>.<ns>.svc:15012, through CoreDNS and kube-proxy, to a selector-less Service
// whose EndpointSlice points at the controller on the host.
//  - A Pod is created while that Service has no endpoints (the control plane unreachable):
//    the kubelet runs weft-init (capture) and the native sidecar, and holds the app back — no
//    restarts, the app not started — until the EndpointSlice appears and Envoy gets its
//    config; the app's start time (containerStatuses) is after that moment, and the Pod turns
//    Ready through the rewritten probes.
//  - A Job in the meshed namespace completes when its app exits, and the kubelet stops the
//    sidecar after the app.
import { realpathSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envoyBinary } from '../../test/support/envoy-binary.ts';
import { installAndRun, waitUntilInjecting, type InjectEnv } from '../inject/support.ts';
import { apply, eventually, kubectl, kubectlJson, tempNamespace } from '../support/kube.ts';
import { debianImage, nodeCluster, nodeClusterDir, nodeSuitesEnabled, type NodeCluster } from './support.ts';

// e2e/support/kube.ts (kubectl, helm, namespaces) and the injection helpers talk to the
// cluster in WEFT_CLUSTER_DIR: make that the node cluster for this file.
if (nodeSuitesEnabled) process.env.WEFT_CLUSTER_DIR = nodeClusterDir();

const APP_IMAGE = 'weft.local/e2e-busybox:1';
const INIT_IMAGE = 'weft.local/e2e-weft-init:1';
const PROXY_IMAGE = 'weft.local/e2e-weft-proxy:1';
const XDS_SERVICE_PORT = 15012;

interface ContainerStatus {
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
interface PodStatus {
  metadata: { name: string };
  status: {
    phase: string;
    conditions?: { type: string; status: string; lastTransitionTime: string }[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

const statusOf = (p: PodStatus, name: string) =>
  [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])].find((c) => c.name === name);
const seconds = (iso: string | undefined) => (iso ? Date.parse(iso) / 1000 : NaN);

describe.skipIf(!nodeSuitesEnabled)('real node: native sidecar start order and Jobs', () => {
  let c: NodeCluster;
  let env: InjectEnv;
  let ns = '';
  const xdsService = () => env.release; // what the chart's xdsAddress names

  beforeAll(async () => {
    c = await nodeCluster();
    const envoy = realpathSync(envoyBinary());
    const t0 = Date.now();
    await Promise.all([
      debianImage(APP_IMAGE, 'busybox', ['--user', '65532:65532']),
      debianImage(INIT_IMAGE, 'iptables'),
      debianImage(PROXY_IMAGE, 'ca-certificates', [
        '--copy',
        `${envoy}:/usr/local/bin/envoy`,
        '--entrypoint',
        '["/usr/local/bin/envoy"]',
        '--user',
        '1337:1337',
      ]),
    ]);
    console.log(`[node sidecar] images ready in ${Date.now() - t0} ms`);
    env = await installAndRun('weft-side', ['--xds-address', `${c.env.WEFT_BRIDGE_IP}:0`], {
      injection: { proxyImage: PROXY_IMAGE, initImage: INIT_IMAGE, imagePullPolicy: 'Never' },
    });
    // The xDS Service, without endpoints for now: the sidecar resolves the name but nothing answers.
    await apply(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: xdsService() },
        spec: { ports: [{ name: 'grpc-xds', port: XDS_SERVICE_PORT, targetPort: env.ctl.xdsPort, protocol: 'TCP' }] },
      },
      { namespace: env.cpNs },
    );
    ns = await tempNamespace('weft-side-app', { 'weft.dev/inject': 'enabled', ...env.confine });
    await waitUntilInjecting(ns);
  }, 1_500_000);

  afterAll(async () => {
    await env?.close();
  });

  it('holds the app until the sidecar has config from the control plane, then starts it', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        terminationGracePeriodSeconds: 5,
        containers: [
          {
            name: 'app',
            image: APP_IMAGE,
            imagePullPolicy: 'Never',
            command: ['sh', '-c', 'mkdir -p /tmp/www && echo ok >/tmp/www/healthz && exec busybox httpd -f -p 8080 -h /tmp/www'],
            ports: [{ name: 'http', containerPort: 8080 }],
            livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 2, failureThreshold: 2 },
            readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
          },
        ],
      },
    };
    const created = Date.now();
    await apply(pod, { namespace: ns });
    const get = () => kubectlJson<PodStatus>(['get', 'pod', 'web', '-n', ns]);
    const running = await eventually(get, {
      until: (p) => statusOf(p, 'weft-proxy')?.state.running !== undefined,
      what: 'weft-proxy running',
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    const proxyStarted = seconds(statusOf(running, 'weft-proxy')?.state.running?.startedAt);
    expect(statusOf(running, 'weft-init')?.state.terminated?.exitCode).toBe(0);
    // Control plane unreachable: longer than the sidecar's bounded initial fetches (2 × 5 s)
    // and than the app's liveness budget (2 × 2 s), the app is held back, nothing restarts.
    await new Promise((r) => setTimeout(r, 15_000));
    const held = await get();
    expect(statusOf(held, 'app')?.state.waiting?.reason).toBe('PodInitializing');
    expect(statusOf(held, 'weft-proxy')).toMatchObject({ started: false, restartCount: 0 });
    expect(held.status.conditions?.find((x) => x.type === 'Initialized')?.status).toBe('False');

    // The control plane becomes reachable.
    const opened = Date.now();
    await apply(
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${xdsService()}-host`, labels: { 'kubernetes.io/service-name': xdsService() } },
        addressType: 'IPv4',
        ports: [{ name: 'grpc-xds', port: env.ctl.xdsPort, protocol: 'TCP' }],
        endpoints: [{ addresses: [c.env.WEFT_BRIDGE_IP ?? ''] }],
      },
      { namespace: env.cpNs },
    );
    await kubectl(['wait', '--for=condition=Ready', 'pod/web', '-n', ns, '--timeout=120s'], { timeoutMs: 150_000 });
    const ready = await get();
    const appStarted = seconds(statusOf(ready, 'app')?.state.running?.startedAt);
    const initialized = seconds(ready.status.conditions?.find((x) => x.type === 'Initialized')?.lastTransitionTime);
    console.log(
      `[node sidecar] Pod created -> proxy started ${Math.round(proxyStarted - created / 1000)} s; control plane opened ${Math.round((opened - created) / 1000)} s -> app started ${Math.round(appStarted - opened / 1000)} s later (RFC 3339 seconds); Ready ${Math.round((Date.now() - opened) / 1000)} s after opening`,
    );
    // Timestamps have whole seconds: the app started in or after the second the control plane became reachable.
    expect(appStarted).toBeGreaterThanOrEqual(Math.floor(opened / 1000));
    expect(initialized).toBeGreaterThanOrEqual(Math.floor(opened / 1000));
    expect(statusOf(ready, 'weft-proxy')).toMatchObject({ started: true, ready: true, restartCount: 0 });
    expect(statusOf(ready, 'app')).toMatchObject({ ready: true, restartCount: 0 });
    // The sidecar authenticated with the token the kubelet mounted: the controller issued its identity.
    const identities = await env.ctl.json<unknown>('/debug/identity');
    expect(JSON.stringify(identities)).toContain(`spiffe://cluster.local/ns/${ns}/sa/default`);
  }, 300_000);

  it('a Job completes when its app exits; the kubelet stops the sidecar after the app', async () => {
    await apply(
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'once' },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: { labels: { app: 'once' } },
            spec: {
              restartPolicy: 'Never',
              terminationGracePeriodSeconds: 5,
              containers: [{ name: 'app', image: APP_IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', 'echo job done'] }],
            },
          },
        },
      },
      { namespace: ns },
    );
    const t0 = Date.now();
    await kubectl(['wait', '--for=condition=complete', 'job/once', '-n', ns, '--timeout=120s'], { timeoutMs: 150_000 });
    console.log(`[node sidecar] injected Job complete in ${Date.now() - t0} ms`);
    const pods = await eventually(() => kubectlJson<{ items: PodStatus[] }>(['get', 'pods', '-n', ns, '-l', 'app=once']), {
      until: (l) => l.items.length === 1 && statusOf(l.items[0] as PodStatus, 'weft-proxy')?.state.terminated !== undefined,
      what: 'the Job Pod with its sidecar stopped',
      timeoutMs: 60_000,
    });
    const p = pods.items[0] as PodStatus;
    expect(p.status.phase).toBe('Succeeded');
    const app = statusOf(p, 'app')?.state.terminated;
    const proxy = statusOf(p, 'weft-proxy')?.state.terminated;
    expect(app?.exitCode).toBe(0);
    expect(seconds(proxy?.finishedAt)).toBeGreaterThanOrEqual(seconds(app?.finishedAt));
    expect(seconds(app?.startedAt)).toBeGreaterThanOrEqual(seconds(statusOf(p, 'weft-proxy')?.state.terminated?.startedAt));
  }, 240_000);
});
