// Telemetry's pure parts: the stats tag regexes against the names names.ts makes, the bootstrap's
// node metadata back into ProxyInfo, injection-time precedence, and the listener decoration.
import { create } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { buildBootstrap } from '../../xds/bootstrap/bootstrap.ts';
import { statsConfig, TAG_REGEXES } from '../../xds/bootstrap/telemetry.ts';
import { NodeSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { HttpConnectionManagerSchema } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../xds/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { inboundClusterName, inboundStatPrefix, outboundClusterName } from '../../xds/resources/names.ts';
import { proxyFromNode } from '../../xds/resources/node-info.ts';
import { proxyGroupKey } from '../../xds/resources/proxy.ts';
import { translate } from '../../xds/translate/index.ts';
import { ACCESS_LOG_FIELDS } from '../../xds/translate/telemetry.ts';
import { podTelemetry, workloadName } from '../../webhook/telemetry.ts';
import { model, service, sidecar, slice } from '../translate/fixtures.ts';
import { testContext } from '../webhook/fixtures.ts';

/** Envoy's tag extraction for one regex: the value of the second group (else the first). */
function tag(name: string, stat: string): string | undefined {
  const m = new RegExp(TAG_REGEXES[name] ?? '').exec(stat);
  return m ? (m[2] ?? m[1]) : undefined;
}

describe('stats tags follow names.ts', () => {
  it('parse destination service, namespace and port out of an outbound cluster stat', () => {
    const stat = `cluster.${outboundClusterName({ namespace: 'shop', name: 'checkout-v2' }, 8080)}.upstream_rq_xx`;
    expect(tag('destination_service', stat)).toBe('checkout-v2');
    expect(tag('destination_namespace', stat)).toBe('shop');
    expect(tag('destination_port', stat)).toBe('8080');
    expect(tag('envoy.cluster_name', stat)).toBe('outbound|8080||checkout-v2.shop.svc.cluster.local');
  });
  it('leave other clusters to the cluster name alone', () => {
    const stat = `cluster.${inboundClusterName(8080)}.upstream_rq_total`;
    expect(tag('destination_service', stat)).toBeUndefined();
    expect(tag('envoy.cluster_name', stat)).toBe('inbound|8080||');
    expect(tag('envoy.cluster_name', 'cluster.PassthroughCluster.upstream_cx_total')).toBe('PassthroughCluster');
  });
  it('read security from the inbound stat prefixes', () => {
    for (const s of ['mtls', 'plaintext', 'tls'] as const) {
      expect(tag('security', `http.${inboundStatPrefix(9090, s)}.downstream_rq_total`)).toBe(s);
      expect(tag('security', `tcp.${inboundStatPrefix(5432, s)}.downstream_cx_total`)).toBe(s);
    }
    expect(tag('security', 'http.outbound_8080.downstream_rq_total')).toBeUndefined();
  });
  it('fix the source tags and drop an unknown identity', () => {
    const c = statsConfig('shop', { workload: 'web' });
    const fixed = c.statsTags.filter((t) => t.tagValue.case === 'fixedValue').map((t) => [t.tagName, t.tagValue.value]);
    expect(fixed).toEqual([
      ['source_workload', 'web'],
      ['source_namespace', 'shop'],
    ]);
    expect(c.useAllDefaultTags).toBe(false);
  });
});

describe('telemetry switches travel in node metadata', () => {
  const node = (telemetry?: Parameters<typeof buildBootstrap>[0]['telemetry']) => {
    const b = buildBootstrap({ nodeId: 'web-1', namespace: 'shop', xdsAddress: '127.0.0.1:15010', ...(telemetry ? { telemetry } : {}) });
    return proxyFromNode(create(NodeSchema, b.node));
  };
  it('off unless asked for; tracing only with a collector', () => {
    const off = node({ workload: 'web' });
    expect(off.ok && off.proxy.telemetry).toBeUndefined();
    const noCollector = node({ workload: 'web', traceSampling: 10 });
    expect(noCollector.ok && noCollector.proxy.telemetry).toBeUndefined();
    const on = node({ workload: 'web', identity: 'spiffe://td/ns/shop/sa/web', accessLog: true, traceSampling: 2.5, otlpAddress: 'otel:4317' });
    expect(on.ok && on.proxy.telemetry).toEqual({ accessLog: true, traceSampling: 2.5, workload: 'web', identity: 'spiffe://td/ns/shop/sa/web' });
    if (on.ok && off.ok) expect(proxyGroupKey(on.proxy)).not.toBe(proxyGroupKey(off.proxy));
  });
  it('refuses a sampling rate over 100', () => {
    const r = proxyFromNode(create(NodeSchema, { id: 'x', metadata: { WEFT_TRACE_SAMPLING: '150' } as never }));
    expect(r.ok).toBe(false);
  });
});

describe('injection resolves telemetry: pod annotation > namespace label > chart', () => {
  const pod = (annotations: Record<string, string> = {}, labels: Record<string, string> = {}) => ({
    metadata: { generateName: 'web-7d9f8b6c5d-', labels: { 'pod-template-hash': '7d9f8b6c5d', ...labels }, annotations },
    spec: { containers: [{ name: 'app' }], serviceAccountName: 'web-sa' },
  });
  const values = testContext({ trustDomain: 'example.org', telemetry: { accessLog: false, tracing: { endpoint: 'otel.obs:4317', sampling: 1 } } }).values;
  it('names the workload from labels, else the owner', () => {
    expect(workloadName(pod())).toBe('web');
    expect(workloadName(pod({}, { app: 'shop-web' }))).toBe('shop-web');
  });
  it('applies the levels in order and warns about bad values', () => {
    const warnings: string[] = [];
    expect(podTelemetry(pod(), 'shop', {}, values, warnings)).toEqual({
      workload: 'web',
      identity: 'spiffe://example.org/ns/shop/sa/web-sa',
      otlpAddress: 'otel.obs:4317',
      traceSampling: 1,
    });
    const ns = { 'telemetry.weft.dev/access-log': 'true', 'telemetry.weft.dev/trace-sampling': '50' };
    expect(podTelemetry(pod(), 'shop', ns, values, warnings)).toMatchObject({ accessLog: true, traceSampling: 50 });
    const annotated = pod({ 'telemetry.weft.dev/access-log': 'false', 'telemetry.weft.dev/trace-sampling': 'lots' });
    const t = podTelemetry(annotated, 'shop', ns, values, warnings);
    expect(t.accessLog).toBeUndefined();
    expect(t.traceSampling).toBe(50);
    expect(warnings).toEqual(['annotation telemetry.weft.dev/trace-sampling: "lots" is not valid; ignored']);
  });
});

describe('listeners with access logs and tracing', () => {
  const m = model(
    service('checkout', [{ name: 'http', port: 8080, targetPort: 8080 }], { selector: { app: 'checkout' } }),
    slice('checkout-1', 'checkout', [{ name: 'http', port: 8080 }], [{ ip: '10.0.0.1' }]),
  );
  const proxy = { ...sidecar('shop', 'checkout'), telemetry: { accessLog: true, traceSampling: 5, workload: 'checkout' } };
  it('adds them to every connection manager and TCP proxy, the same objects for equal proxies', () => {
    const a = translate(m, proxy);
    expect(translate(m, { ...proxy, id: 'other' }).listeners).toBe(a.listeners);
    let hcms = 0;
    for (const l of a.listeners) {
      for (const chain of l.filterChains) {
        for (const f of chain.filters) {
          if (f.configType.case !== 'typedConfig') continue;
          const hcm = anyUnpack(f.configType.value, HttpConnectionManagerSchema);
          const tcp = anyUnpack(f.configType.value, TcpProxySchema);
          if (hcm) {
            hcms++;
            expect(hcm.accessLog.map((x) => x.name)).toEqual(['envoy.access_loggers.stdout']);
            expect(hcm.tracing?.randomSampling?.value).toBe(5);
            expect(hcm.tracing?.provider?.name).toBe('envoy.tracers.opentelemetry');
          } else if (tcp) expect(tcp.accessLog).toHaveLength(1);
        }
      }
    }
    expect(hcms).toBeGreaterThan(0);
    expect(translate(m, sidecar('shop', 'checkout')).listeners).not.toBe(a.listeners);
    expect(Object.keys(ACCESS_LOG_FIELDS)).toContain('trace_id');
  });
});
