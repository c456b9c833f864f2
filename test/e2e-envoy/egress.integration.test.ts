// Egress scope through real Envoys: `weft serve` over examples/mesh plus payments/billing and
// 40 filler Services; one Envoy unscoped, one bootstrapped with `--egress payments/billing`
// (node metadata WEFT_EGRESS). The scoped Envoy's admin /clusters and config dump hold only
// billing's cluster and route, its requests to billing reach the backend, and a Host outside
// the scope gets Envoy's 404 (explicit mode routes by Host; see docs/scale.md for captured
// sidecars). Both Envoys accept every update.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderBootstrap } from '../../xds/bootstrap/bootstrap.ts';
import { startEnvoy, type EnvoyHandle } from '../support/envoy.ts';
import { rejectedUpdates, waitForRoute } from '../support/envoy-routes.ts';
import { freePort } from '../support/free-port.ts';
import { startMeshWithEnvoy, type MeshEnvoy } from '../support/mesh-envoy.ts';
import { sendThroughProxy } from '../support/proxy-load.ts';

const BILLING_HOST = 'billing.payments:8080';
const FILLERS = 40;

type Json = Record<string, unknown>;

/** Outbound cluster names in Envoy's /clusters (static admin/xDS clusters left out). */
async function outboundClusters(envoy: EnvoyHandle): Promise<string[]> {
  const text = await envoy.admin('/clusters');
  const names = new Set(text.split('\n').map((l) => l.split('::')[0] ?? ''));
  return [...names].filter((n) => n.startsWith('outbound|')).sort();
}

/** Names of the dynamic route configurations in the config dump. */
async function routeConfigs(envoy: EnvoyHandle): Promise<string[]> {
  const dump = (await envoy.configDump()) as { configs?: Json[] };
  const names: string[] = [];
  for (const section of dump.configs ?? []) {
    for (const r of (section.dynamic_route_configs as Json[] | undefined) ?? []) {
      const name = (r.route_config as { name?: string } | undefined)?.name;
      if (name) names.push(name);
    }
  }
  return names.sort();
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function extraServices(billingPort: number): string {
  const docs = [
    `apiVersion: v1
kind: Service
metadata: {name: billing, namespace: payments}
spec:
  ports: [{name: http, port: 8080, targetPort: http}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: billing-1
  namespace: payments
  labels: {kubernetes.io/service-name: billing}
addressType: IPv4
ports: [{name: http, port: ${billingPort}, protocol: TCP}]
endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]`,
  ];
  for (let i = 0; i < FILLERS; i++) {
    docs.push(`apiVersion: v1
kind: Service
metadata: {name: filler-${i}, namespace: other}
spec:
  ports: [{name: http, port: 8080}]`);
  }
  return `${docs.join('\n---\n')}\n`;
}

describe('egress scope through real Envoys', () => {
  let h: MeshEnvoy;
  let scoped: EnvoyHandle;
  let scopedPort: number;
  beforeAll(async () => {
    h = await startMeshWithEnvoy();
    await h.mesh.write('egress-extra.yaml', extraServices(h.v2.port));
    scopedPort = await freePort();
    scoped = await startEnvoy({
      bootstrapYaml: renderBootstrap({
        nodeId: `e2e-scoped-${process.pid}`,
        namespace: 'shop',
        service: 'e2e-scoped',
        xdsAddress: h.weft.xdsAddress,
        outboundPort: scopedPort,
        adminPort: 0,
        egress: 'payments/billing',
      }).yaml,
    });
    await waitForRoute(scoped, BILLING_HOST, (v) => v.clusters.length > 0);
  }, 120_000);
  afterAll(async () => {
    await scoped?.stop();
    await h?.stop();
  });

  it('the scoped Envoy holds only billing; the unscoped one every Service', { timeout: 60_000 }, async () => {
    const all = await until(
      'unscoped clusters',
      () => outboundClusters(h.envoy),
      (c) => c.length >= FILLERS + 4,
    );
    expect(all).toContain('outbound|8080||billing.payments.svc.cluster.local');
    expect(all).toContain('outbound|8080||checkout.shop.svc.cluster.local');
    expect(await outboundClusters(scoped)).toEqual(['outbound|8080||billing.payments.svc.cluster.local']);
    expect(await routeConfigs(scoped)).toEqual(['explicitOutbound']);
    const dump = JSON.stringify(await scoped.configDump());
    expect(dump).toContain('billing.payments');
    expect(dump).not.toContain('checkout');
    expect(dump).not.toContain('filler-');
    const bytes = async (e: EnvoyHandle) => JSON.stringify(await e.configDump()).length;
    console.log(`[egress] config dump: unscoped ${await bytes(h.envoy)} B (${all.length} outbound clusters), scoped ${dump.length} B (1)`);
  });

  it('the scoped Envoy reaches billing; a Host outside its scope gets 404 from Envoy', { timeout: 60_000 }, async () => {
    const r = await sendThroughProxy({ proxyPort: scopedPort, url: `http://${BILLING_HOST}/`, requests: 50, concurrency: 4 });
    expect(r.errors).toBe(0);
    expect(r.ok).toBe(50);
    expect(r.byBackend.get('v2')).toBe(50);
    const out = await sendThroughProxy({ proxyPort: scopedPort, url: 'http://checkout.shop:8080/', requests: 3, concurrency: 1 });
    expect(out.ok).toBe(0);
    expect(out.byStatus.get(404)).toBe(3);
    // The unscoped Envoy still routes to both.
    const both = await sendThroughProxy({ proxyPort: h.outboundPort, url: `http://${BILLING_HOST}/`, requests: 10, concurrency: 2 });
    expect(both.ok).toBe(10);
  });

  it('neither Envoy rejected an update', async () => {
    for (const e of [h.envoy, scoped]) {
      const rejected = await rejectedUpdates(e);
      expect(Object.fromEntries([...rejected].filter(([, v]) => v !== 0))).toEqual({});
    }
  });
});
