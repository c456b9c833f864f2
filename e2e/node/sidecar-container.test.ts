// The plain-container shape (API servers without native sidecars; forced here with
// injection.sidecarMode: container) on the real node, control plane unreachable when the Pod
// starts: the app starts at once next to Envoy; Envoy serves the app's rewritten liveness
// probe after its bounded initial fetches, so with Kubernetes' default liveness settings
// (10 s × 3) the kubelet never restarts the app, while the Pod stays unready (weft-proxy's
// readiness needs config) until the control plane is reachable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply, eventually, kubectl, kubectlJson } from '../support/kube.ts';
import { conditionOf, nodeMesh, seconds, sidecarProbe, statusOf, webPod, type NodeMesh, type PodStatus } from './mesh-support.ts';
import { nodeSuitesEnabled } from './support.ts';

describe.skipIf(!nodeSuitesEnabled)('real node: plain-container sidecar, liveness without a control plane', () => {
  let mesh: NodeMesh;

  beforeAll(async () => {
    mesh = await nodeMesh('weft-plain', { sidecarMode: 'container' });
  }, 1_500_000);

  afterAll(async () => {
    await mesh?.close();
  });

  it('starts the app at once, keeps it alive without a control plane, and becomes Ready when config arrives', async () => {
    const ns = mesh.ns;
    await apply(webPod('web', { periodSeconds: 10, failureThreshold: 3 }), { namespace: ns });
    const get = () => kubectlJson<PodStatus>(['get', 'pod', 'web', '-n', ns]);
    const running = await eventually(get, {
      until: (p) => statusOf(p, 'app')?.state.running !== undefined && statusOf(p, 'weft-proxy')?.state.running !== undefined,
      what: 'app and weft-proxy running',
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    expect((running.status.initContainerStatuses ?? []).map((c) => c.name)).toEqual(['weft-init']);
    const appStarted = seconds(statusOf(running, 'app')?.state.running?.startedAt);
    const ip = running.status.podIP ?? '';
    const live = await eventually(() => sidecarProbe(ip, '/app-health/app/livez'), { until: (s) => s === 200, what: 'the liveness route', timeoutMs: 60_000 });
    console.log(
      `[node plain sidecar] app liveness answered through Envoy ${Math.round(Date.now() / 1000 - appStarted)} s after the app started, no control plane`,
    );
    expect(live).toBe(200);
    expect(await sidecarProbe(ip, '/healthz/ready')).toBe(503);
    // Past the liveness budget (3 × 10 s) since the app started.
    const wait = Math.max(0, (appStarted + 40) * 1000 - Date.now());
    await new Promise((r) => setTimeout(r, wait));
    const alive = await get();
    expect(statusOf(alive, 'app')).toMatchObject({ restartCount: 0 });
    expect(statusOf(alive, 'weft-proxy')).toMatchObject({ ready: false, restartCount: 0 });
    expect(conditionOf(alive, 'Ready')?.status).toBe('False');

    const opened = Date.now();
    await mesh.openControlPlane();
    await kubectl(['wait', '--for=condition=Ready', 'pod/web', '-n', ns, '--timeout=120s'], { timeoutMs: 150_000 });
    console.log(`[node plain sidecar] Ready ${Math.round((Date.now() - opened) / 1000)} s after the control plane became reachable`);
    const ready = await get();
    expect(statusOf(ready, 'app')).toMatchObject({ ready: true, restartCount: 0 });
    expect(statusOf(ready, 'weft-proxy')).toMatchObject({ ready: true, restartCount: 0 });
  }, 300_000);
});
