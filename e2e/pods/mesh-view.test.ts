// The mesh view on real Pods: Weft installed by its chart with debugApi.authenticated=true,
// the shop (examples/shop) injected and running. Each controller replica scrapes the Envoy
// stats of the sidecars connected to it (at each Pod's IP, port 15090) and serves the view on
// the monitoring port behind TokenReview + SubjectAccessReview: no token 401, a token without
// the right sees nothing (403 on mesh-wide views), a token bound to the chart's debug-reader
// ClusterRole 200 with the shop's edges (client → checkout-v1/v2 over mTLS) and the 90/10 split.
// Then, with debugApi.authenticated=false, the debug API is not on the Pod's address at all.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshViewSchema, type MeshView } from '../../src/runtime/meshview/shape.ts';
import { MeshPorts } from '../../src/base/mesh-ports.ts';
import { napply, nk, nodeSuitesEnabled } from '../node/support.ts';
import { installWeft, type WeftRelease } from './support/weft.ts';
import { applyShop, SHOP, startLoad } from './support/shop.ts';

describe.skipIf(!nodeSuitesEnabled)('the mesh view of the chart-installed controller, on real Pods', () => {
  let rel: WeftRelease;
  let viewer: string;
  let stranger: string;
  let load: Awaited<ReturnType<typeof startLoad>> | undefined;

  beforeAll(async () => {
    rel = await installWeft({ set: { 'debugApi.authenticated': 'true' } });
    await applyShop(rel.meshLabels);
    for (const d of ['checkout-v1', 'checkout-v2', 'client']) {
      await nk(['-n', SHOP, 'rollout', 'status', `deployment/${d}`, '--timeout=180s'], { timeoutMs: 200_000 });
    }
    await napply(
      [
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'mesh-viewer', namespace: rel.namespace } },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'stranger', namespace: rel.namespace } },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: `${rel.fullname}-mesh-viewer` },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${rel.fullname}-debug-reader` },
          subjects: [{ kind: 'ServiceAccount', name: 'mesh-viewer', namespace: rel.namespace }],
        },
      ],
      undefined,
    );
    viewer = (await nk(['-n', rel.namespace, 'create', 'token', 'mesh-viewer', '--duration', '30m'])).stdout.trim();
    stranger = (await nk(['-n', rel.namespace, 'create', 'token', 'stranger', '--duration', '30m'])).stdout.trim();
    load = await startLoad({ rate: 100, concurrency: 4 });
  }, 600_000);

  afterAll(async () => {
    await load?.stop().catch(() => undefined);
    await nk(['delete', 'clusterrolebinding', `${rel?.fullname}-mesh-viewer`, '--ignore-not-found'], { allowFailure: true });
    await nk(['delete', 'namespace', SHOP, '--wait=false', '--ignore-not-found'], { allowFailure: true });
    await rel?.uninstall();
  }, 180_000);

  const podIPs = async (): Promise<string[]> => (await rel.pods()).filter((p) => p.ready && !p.deleting && p.ip).map((p) => p.ip!);
  const get = (ip: string, path: string, token?: string, port: number = MeshPorts.monitoring): Promise<Response> =>
    fetch(`http://${ip}:${port}${path}`, { signal: AbortSignal.timeout(10_000), ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });

  it('every replica: 401 without a token, nothing (or 403 for mesh-wide views) for a token without the right, 200 for the debug-reader', async () => {
    const ips = await podIPs();
    expect(ips.length).toBeGreaterThanOrEqual(1);
    for (const ip of ips) {
      for (const path of ['/mesh/api/graph', '/debug/proxies', '/debug/config']) {
        expect((await get(ip, path)).status, `${ip}${path}`).toBe(401);
        // Views about namespaced things narrow to the namespaces a token may read (none: nothing); mesh-wide ones refuse.
        const s = await get(ip, path, stranger);
        expect(s.status, `${ip}${path}`).toBe(path === '/debug/config' ? 403 : 200);
        if (path === '/debug/proxies') expect(await s.json()).toEqual([]);
        if (path === '/mesh/api/graph') expect((await s.json()) as MeshView).toMatchObject({ services: [], proxies: [], edges: [] });
        expect((await get(ip, path, viewer)).status, `${ip}${path}`).toBe(200);
      }
      expect((await get(ip, '/mesh/')).status).toBe(200); // the page: static code, no data
    }
    console.log(`[mesh-view pods] ${ips.length} replicas: 401 / narrowed-or-403 / 200 on /mesh/api/graph, /debug/proxies, /debug/config`);
  });

  it("shows the shop's edges with live rates over mTLS and the 90/10 split (from the replica the client is connected to)", { timeout: 180_000 }, async () => {
    const deadline = Date.now() + 120_000;
    let found: { ip: string; view: MeshView } | undefined;
    let last = '';
    while (!found && Date.now() < deadline) {
      for (const ip of await podIPs()) {
        const view = MeshViewSchema.parse(await (await get(ip, '/mesh/api/graph', viewer)).json());
        // The client has no Service: its node is named by its app label.
        const client = view.edges.filter((e) => e.kind === 'traffic' && e.source === `${SHOP}/client` && e.destination.startsWith(`${SHOP}/checkout-v`));
        last = JSON.stringify({ ip, signals: view.signals, proxies: view.proxies.map((p) => [p.id, p.sync, p.scrape]), edges: view.edges });
        if (client.length === 2 && client.every((e) => (e.requestRate ?? 0) > 0)) found = { ip, view };
      }
      if (!found) await sleep(2000);
    }
    if (!found) throw new Error(`no replica showed the client's edges: ${last}`);
    const { view } = found;
    const traffic = view.edges.filter((e) => e.kind === 'traffic' && e.destination.startsWith(`${SHOP}/checkout-v`));
    const split = (b: string) => view.edges.find((e) => e.kind === 'split' && e.source === `${SHOP}/checkout` && e.destination === `${SHOP}/${b}`);
    const total = traffic.reduce((s, e) => s + (e.requestRate ?? 0), 0);
    console.log(
      `[mesh-view pods] replica ${found.ip}: ${traffic.map((e) => `${e.source} → ${e.destination} ${e.requestRate?.toFixed(1)}/s ok ${e.successRate} p99 ${e.p99Ms?.toFixed(1)} ms ${e.mtls}`).join('; ')}; ` +
        `split ${split('checkout-v1')?.weight}/${split('checkout-v2')?.weight}, observed v2 ${split('checkout-v2')?.observedShare?.toFixed(1)} %; ` +
        `proxies ${view.proxies.length} (${view.proxies.map((p) => p.sync).join(',')}), certificates ${view.certificates.length}`,
    );
    for (const e of traffic) {
      expect(e.mtls).toBe('mtls');
      expect(e.successRate).toBe(1);
    }
    // The test's load (100/s) plus the client Deployment's own 10/s.
    expect(total).toBeGreaterThan(50);
    expect(total).toBeLessThan(200);
    expect(split('checkout-v1')?.weight).toBeCloseTo(90, 5);
    expect(split('checkout-v2')?.weight).toBeCloseTo(10, 5);
    expect(view.services.find((s) => s.id === `${SHOP}/checkout-v1`)?.mtlsMode).toBe('STRICT');
    expect(view.proxies.every((p) => p.sync === 'synced')).toBe(true);
    expect(view.certificates.some((c) => c.kind === 'workload' && c.expiresInSeconds > 0)).toBe(true);
  });

  it('with debugApi.authenticated=false, the debug API and mesh view are on loopback only: not on the Pod address', { timeout: 300_000 }, async () => {
    await rel.upgrade({ 'debugApi.authenticated': 'false' });
    for (const ip of await podIPs()) {
      expect((await get(ip, '/healthz')).status).toBe(200);
      expect((await get(ip, '/debug/proxies', viewer)).status).toBe(404);
      expect((await get(ip, '/mesh/api/graph', viewer)).status).toBe(404);
      await expect(get(ip, '/debug/proxies', undefined, MeshPorts.debug)).rejects.toThrow();
    }
  });
});
