// A real Envoy against the ADS server, over SotW and Delta: it gets warm (every type ACKed),
// follows updates (a changed cluster finishes warming, a removed one goes), and a config it
// rejects is NACKed once — counted, not re-pushed — while it keeps its last good clusters.
import { afterEach, describe, expect, it } from 'vitest';
import { startEnvoy, type EnvoyHandle } from '../support/envoy.ts';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { debugProxies } from '../../xds/server/debug.ts';
import { eventually, metricValue, startHarness, type Harness } from './support/harness.ts';
import { cla, cluster, listener, resourceSet, route } from './support/resources.ts';

function bootstrap(xdsPort: number, apiType: 'GRPC' | 'DELTA_GRPC'): string {
  return `
node: {id: envoy-${apiType.toLowerCase()}, cluster: web, metadata: {WEFT_NAMESPACE: shop, WEFT_SERVICE: web}}
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
dynamic_resources:
  ads_config:
    api_type: ${apiType}
    transport_api_version: V3
    set_node_on_first_message_only: true
    grpc_services: [{envoy_grpc: {cluster_name: xds}}]
  cds_config: {ads: {}, resource_api_version: V3}
  lds_config: {ads: {}, resource_api_version: V3}
static_resources:
  clusters:
  - name: xds
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
    load_assignment:
      cluster_name: xds
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${xdsPort}}}}}]}]
`;
}

const a = cluster('a.shop');
const b = cluster('b.shop');
const claA = cla('a.shop', '127.0.0.1');
const claB = cla('b.shop', '127.0.0.2');
const l = listener('outbound-0', 0, 'route-0');
const r = route('route-0', 'a.shop', 'b.shop');
const base = resourceSet({ clusters: [a, b], endpoints: [claA, claB], listeners: [l], routes: [r] });

async function allAcked(h: Harness): Promise<void> {
  await eventually(async () => {
    const [p] = debugProxies(await h.server.streams.debug());
    const types = p?.types ?? {};
    expect(Object.keys(types).sort()).toEqual([TypeUrl.Cluster, TypeUrl.Endpoint, TypeUrl.Listener, TypeUrl.Route].sort());
    for (const t of Object.values(types)) expect(t.versionAcked).toBe(t.versionSent);
  }, 10_000);
}

async function gauge(envoy: EnvoyHandle, name: string): Promise<number | undefined> {
  return (await envoy.stats(`^${name.replaceAll('.', '\\.')}$`)).get(name);
}

describe.each(['GRPC', 'DELTA_GRPC'] as const)('real Envoy over %s', (apiType) => {
  let h: Harness;
  let envoy: EnvoyHandle | undefined;
  afterEach(async () => {
    await envoy?.stop();
    await h.close();
  });

  it('warms up, follows cluster changes and removals, and survives a rejected config', async () => {
    h = await startHarness();
    h.world.set(base);
    envoy = await startEnvoy({ bootstrapYaml: bootstrap(h.server.port, apiType) });
    await allAcked(h);
    expect(await gauge(envoy, 'cluster_manager.active_clusters')).toBe(3); // xds + a + b

    // A changed cluster re-warms; it needs its CLA again to finish.
    h.world.set(resourceSet({ ...base, clusters: [cluster('a.shop', { connectTimeoutMs: 3000 }), b] }));
    await eventually(async () => {
      expect(await gauge(envoy!, 'cluster_manager.cds.update_success')).toBe(2);
      expect(await gauge(envoy!, 'cluster_manager.warming_clusters')).toBe(0);
    }, 5000);

    // Rejected: a zero connect_timeout fails Envoy's validation.
    const nacks = await metricValue('weft_xds_nacks_total', { type: 'cds' });
    h.world.set(resourceSet({ ...base, clusters: [cluster('a.shop', { connectTimeoutMs: 3000 }), b, cluster('bad.shop', { connectTimeoutMs: 0 })] }));
    await eventually(async () => expect(await metricValue('weft_xds_nacks_total', { type: 'cds' })).toBe(nacks + 1), 5000);
    const [p] = debugProxies(await h.server.streams.debug());
    expect(p?.types[TypeUrl.Cluster]?.lastNack?.message).toMatch(/connect_timeout|ConnectTimeout/i);
    await new Promise((res) => setTimeout(res, 500));
    expect(await gauge(envoy, 'cluster_manager.cds.update_rejected')).toBe(1); // no re-push loop
    expect(await metricValue('weft_xds_nacks_total', { type: 'cds' })).toBe(nacks + 1);

    // Fixed, and b removed: Envoy drops it.
    h.world.set(resourceSet({ ...base, clusters: [a], endpoints: [claA], routes: [route('route-0', 'a.shop')] }));
    await eventually(async () => expect(await gauge(envoy!, 'cluster_manager.active_clusters')).toBe(2), 5000);
    await allAcked(h);
  });
});
