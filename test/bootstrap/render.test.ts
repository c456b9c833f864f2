// renderBootstrap builds a proto Bootstrap and renders it; these check the fields the xDS
// server and Envoy rely on, and that the YAML parses back into the same message.
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { MeshPorts, XDS_CLUSTER_NAME } from '../../src/base/mesh-ports.ts';
import { buildBootstrap, parseBootstrap, parseHostPort, renderBootstrap, type BootstrapOptions } from '../../xds/bootstrap/bootstrap.ts';
import { renderSidecarBootstrap } from '../../xds/bootstrap/sidecar.ts';
import { proxyFromNode } from '../../xds/resources/node-info.ts';

const base: BootstrapOptions = { nodeId: 'web-1', namespace: 'shop', service: 'web', xdsAddress: '127.0.0.1:15010' };

type Doc = {
  node: { id: string; cluster: string; metadata: Record<string, unknown> };
  dynamic_resources: { ads_config: Record<string, unknown>; cds_config: unknown; lds_config: unknown };
  static_resources: { clusters: Array<Record<string, unknown>> };
  admin: { address: { socket_address: { address: string; port_value: number } } };
};
const doc = (o: Partial<BootstrapOptions> = {}) => parseYaml(renderBootstrap({ ...base, ...o }).yaml) as Doc;

describe('renderBootstrap', () => {
  it('round-trips through fromJson into the message it was built from', () => {
    const opts: BootstrapOptions = { ...base, labels: { version: 'v1', app: 'web' }, delta: true, outboundPort: 16001 };
    const { yaml, json } = renderBootstrap(opts);
    const parsed = parseBootstrap(yaml);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.bootstrap).toEqual(buildBootstrap(opts));
    expect(parseYaml(yaml)).toEqual(json);
  });

  it('describes the proxy in node metadata for the xDS server', () => {
    const d = doc({ labels: { version: 'v1', app: 'web' } });
    expect(d.node).toEqual({
      id: 'web-1',
      cluster: 'web.shop',
      metadata: {
        WEFT_NAMESPACE: 'shop',
        WEFT_SERVICE: 'web',
        WEFT_CAPTURE: 'false',
        WEFT_PROXY_KIND: 'sidecar',
        WEFT_LABELS: { app: 'web', version: 'v1' },
      },
    });
    expect(doc({ service: undefined }).node.cluster).toBe('shop');
    expect(doc({ capture: true }).node.metadata.WEFT_CAPTURE).toBe('true');
  });

  it('names a non-default outbound port in metadata so translation can honour it', () => {
    expect(doc().node.metadata).not.toHaveProperty('WEFT_OUTBOUND_PORT');
    expect(doc({ outboundPort: MeshPorts.outbound }).node.metadata).not.toHaveProperty('WEFT_OUTBOUND_PORT');
    expect(doc({ outboundPort: 16001 }).node.metadata.WEFT_OUTBOUND_PORT).toBe('16001');
  });

  it('names the explicit inbound listener port in metadata only when asked, read back by proxyFromNode', () => {
    expect(doc().node.metadata).not.toHaveProperty('WEFT_INBOUND_PORT');
    const built = buildBootstrap({ ...base, inboundPort: 16006 });
    expect(doc({ inboundPort: 16006 }).node.metadata.WEFT_INBOUND_PORT).toBe('16006');
    expect(proxyFromNode(built.node)).toMatchObject({ ok: true, proxy: { inboundPort: 16006, capture: false, service: 'web' } });
  });

  it('gets CDS and LDS over one ADS stream, SotW or delta', () => {
    const d = doc();
    expect(d.dynamic_resources.ads_config).toEqual({
      api_type: 'GRPC',
      transport_api_version: 'V3',
      grpc_services: [{ envoy_grpc: { cluster_name: XDS_CLUSTER_NAME } }],
      set_node_on_first_message_only: true,
    });
    // No initial fetch timeout: unready until real config arrives, never LIVE and empty.
    expect(d.dynamic_resources.cds_config).toEqual({ ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '0s' });
    expect(d.dynamic_resources.lds_config).toEqual({ ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '0s' });
    expect(doc({ delta: true }).dynamic_resources.ads_config.api_type).toBe('DELTA_GRPC');
  });

  it('reaches the xDS server over HTTP/2, STATIC for an IP and STRICT_DNS for a name', () => {
    const [ip] = doc().static_resources.clusters;
    expect(ip).toMatchObject({ name: XDS_CLUSTER_NAME, type: 'STATIC', connect_timeout: '1s' });
    expect(ip?.typed_extension_protocol_options).toHaveProperty([
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      'explicit_http_config',
      'http2_protocol_options',
    ]);
    expect(ip?.upstream_connection_options).toHaveProperty(['tcp_keepalive', 'keepalive_time']);
    const [dns] = doc({ xdsAddress: 'weft.weft-system.svc:15012' }).static_resources.clusters;
    expect(dns).toMatchObject({ type: 'STRICT_DNS', dns_lookup_family: 'V4_PREFERRED' });
    expect(JSON.stringify(dns)).toContain('"address":"weft.weft-system.svc","port_value":15012');
    const [v6] = doc({ xdsAddress: '[::1]:15010' }).static_resources.clusters;
    expect(v6).toMatchObject({ type: 'STATIC' });
    expect(JSON.stringify(v6)).toContain('"address":"::1"');
  });

  it('puts admin on loopback, default port from MeshPorts', () => {
    expect(doc().admin.address.socket_address).toEqual({ address: '127.0.0.1', port_value: MeshPorts.admin });
    expect(doc({ adminPort: 0 }).admin.address.socket_address.port_value).toBe(0);
  });

  it('rejects an unusable xDS address or port with a TypeError naming the option', () => {
    expect(() => renderBootstrap({ ...base, xdsAddress: 'nope' })).toThrow(/xdsAddress/);
    expect(() => renderBootstrap({ ...base, outboundPort: 70000 })).toThrow(/outboundPort/);
    expect(() => renderBootstrap({ ...base, inboundPort: 0 })).toThrow(/inboundPort/);
    expect(() => renderBootstrap({ ...base, inboundPort: MeshPorts.outbound })).toThrow(/inboundPort: .*outbound/);
    expect(() => renderBootstrap({ ...base, outboundPort: 16001, inboundPort: 16001 })).toThrow(/inboundPort/);
  });
});

describe('parseHostPort', () => {
  it.each([
    ['127.0.0.1:15010', { ok: true, host: '127.0.0.1', port: 15010 }],
    ['localhost:1', { ok: true, host: 'localhost', port: 1 }],
    ['[::1]:15010', { ok: true, host: '::1', port: 15010 }],
  ])('accepts %s', (input, expected) => expect(parseHostPort(input)).toEqual(expected));

  it.each(['127.0.0.1', ':15010', 'host:0', 'host:65536', '::1:15010', '[nothost]:1', 'a b:1'])('rejects %s with a reason', (input) => {
    const r = parseHostPort(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
  });
});

describe('parseBootstrap', () => {
  it('reports what is wrong instead of throwing', () => {
    expect(parseBootstrap('admin: {bogus_field: 1}')).toMatchObject({ ok: false, error: expect.stringContaining('bogus_field') });
    expect(parseBootstrap('node: [unclosed')).toMatchObject({ ok: false, error: expect.stringMatching(/YAML/) });
  });
});

describe('renderSidecarBootstrap', () => {
  const sidecar = { namespace: 'shop', labels: {}, xdsAddress: 'weft.weft-system.svc:15012', trustBundlePem: 'PEM', tokenPath: '/var/run/token' };
  const apiType = (o: { delta?: boolean }) => (JSON.parse(renderSidecarBootstrap({ ...sidecar, ...o })) as Doc).dynamic_resources.ads_config.api_type;

  it('speaks Delta ADS by default (a change sends only what changed), SotW on request', () => {
    expect(apiType({})).toBe('DELTA_GRPC');
    expect(apiType({ delta: false })).toBe('GRPC');
  });
});
