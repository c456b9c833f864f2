// Injected Pods on the real node with native sidecars (kubelet, containerd, CNI, kube-proxy,
// CoreDNS; the mesh of e2e/node/mesh-support.ts, control plane on the host).
//  - A Pod is created while the control plane is unreachable: the kubelet runs weft-init
//    (capture) and the native sidecar, and holds the app back — no restarts, the app not
//    started — until the control plane is reachable and Envoy has its config; the app's
//    start time (containerStatuses) is after that moment, and the Pod turns Ready through
//    the rewritten probes.
//  - A Job in the meshed namespace completes when its app exits, and the kubelet stops the
//    sidecar after the app.
//  - With the control plane gone again, the sidecar is restarted: it serves the app's
//    liveness after its bounded initial fetches, the app is not restarted, the Pod is unready
//    until the control plane returns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply, eventually, kubectl, kubectlJson } from '../support/kube.ts';
import { APP_IMAGE, nodeMesh, seconds, sidecarProbe as probe, statusOf, webPod, type NodeMesh, type PodStatus } from './mesh-support.ts';
import { nodeSuitesEnabled } from './support.ts';

describe.skipIf(!nodeSuitesEnabled)('real node: native sidecar start order, Jobs, liveness without a control plane', () => {
  let mesh: NodeMesh;
  let ns = '';

  beforeAll(async () => {
    mesh = await nodeMesh('weft-side');
    ns = mesh.ns;
  }, 1_500_000);

  afterAll(async () => {
    await mesh?.close();
  });

  it('holds the app until the sidecar has config from the control plane, then starts it', async () => {
    // 30 s liveness budget (Kubernetes' default, 10 s × 3): the last test restarts the sidecar,
    // which the kubelet does after a 10 s back-off; the new Envoy serves the probe routes after
    // its bounded initial fetches (2 × 5 s).
    const pod = webPod('web', { periodSeconds: 10, failureThreshold: 3 });
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
    // the app is held back, nothing restarts.
    await new Promise((r) => setTimeout(r, 15_000));
    const held = await get();
    expect(statusOf(held, 'app')?.state.waiting?.reason).toBe('PodInitializing');
    expect(statusOf(held, 'weft-proxy')).toMatchObject({ started: false, restartCount: 0 });
    expect(held.status.conditions?.find((x) => x.type === 'Initialized')?.status).toBe('False');

    // The control plane becomes reachable.
    const opened = Date.now();
    await mesh.openControlPlane();
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
    const identities = await mesh.env.ctl.json<unknown>('/debug/identity');
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

  it('control plane gone and the sidecar restarted: the app keeps passing liveness, the Pod is unready until config returns', async () => {
    const get = () => kubectlJson<PodStatus>(['get', 'pod', 'web', '-n', ns]);
    const before = await get();
    const ip = before.status.podIP ?? '';
    expect(statusOf(before, 'app')?.restartCount).toBe(0);
    await mesh.closeControlPlane();
    // Envoy is PID 1 of its container; SIGTERM ends it and the kubelet restarts the sidecar.
    await kubectl(['exec', 'web', '-n', ns, '-c', 'weft-proxy', '--', 'sh', '-c', 'kill 1'], { allowFailure: true });
    const restarted = await eventually(get, {
      until: (p) => statusOf(p, 'weft-proxy')?.restartCount === 1 && statusOf(p, 'weft-proxy')?.state.running !== undefined,
      what: 'the sidecar restarted',
      timeoutMs: 90_000,
      intervalMs: 500,
    });
    const newStart = Date.parse(statusOf(restarted, 'weft-proxy')?.state.running?.startedAt ?? '');
    const live = await eventually(() => probe(ip, '/app-health/app/livez'), {
      until: (s) => s === 200,
      what: 'the liveness route',
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    const liveAfter = Date.now() - newStart;
    console.log(`[node sidecar] restarted sidecar without a control plane serves the app's liveness ${Math.round(liveAfter / 1000)} s after it started`);
    expect(live).toBe(200);
    expect(liveAfter).toBeLessThan(20_000);
    expect(await probe(ip, '/healthz/ready')).toBe(503);
    // Longer than the app's liveness budget from the moment the sidecar went away.
    await new Promise((r) => setTimeout(r, 15_000));
    const during = await get();
    expect(statusOf(during, 'app')).toMatchObject({ restartCount: 0 });
    expect(statusOf(during, 'weft-proxy')).toMatchObject({ ready: false, restartCount: 1 });
    expect(await probe(ip, '/app-health/app/livez')).toBe(200);

    // The control plane comes back: the sidecar gets config again and the Pod is Ready.
    await mesh.openControlPlane();
    await kubectl(['wait', '--for=condition=Ready', 'pod/web', '-n', ns, '--timeout=120s'], { timeoutMs: 150_000 });
    const after = await get();
    expect(statusOf(after, 'app')).toMatchObject({ ready: true, restartCount: 0 });
  }, 300_000);
});
