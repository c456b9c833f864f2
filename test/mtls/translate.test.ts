// mTLS in translation beyond the golden files: what the memo key must and must not
// distinguish (labels only through effective modes, identity only through "has a
// certificate" and its trust domain), who gets TLS at all, and the explicit inbound
// listener's edges; plus WEFT_INBOUND_PORT in node metadata.
import { create } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { NodeSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { UpstreamTlsContextSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { proxyFromNode } from '../../xds/resources/node-info.ts';
import { proxyGroupKey, type ProxyInfo } from '../../xds/resources/proxy.ts';
import { EXPLICIT_INBOUND_LISTENER } from '../../xds/resources/names.ts';
import { checkConsistency, translate } from '../../xds/translate/index.ts';
import type { ResourceSet } from '../../xds/translate/types.ts';
import { explicitProxy, model, peerAuth, proxylessClient, service, sidecar, slice } from '../translate/fixtures.ts';

const ID = (sa: string, td = 'cluster.local') => `spiffe://${td}/ns/shop/sa/${sa}`;
const withId = (p: ProxyInfo, sa: string, labels: Record<string, string> = {}): ProxyInfo => ({ ...p, identity: ID(sa), labels });

const m = model(
  service('pay', [{ name: 'http', port: 80, targetPort: 8080 }]),
  slice('pay-1', 'pay', [{ name: 'http', port: 8080 }], [{ ip: '10.0.0.1' }]),
  peerAuth('canary', { selector: { matchLabels: { track: 'canary' } }, mtls: { mode: 'STRICT' } }),
);
const listener = (set: ResourceSet, name: string) => set.listeners.find((l) => l.name === name);
const hasMatches = (c: Cluster) => c.transportSocketMatches.length > 0;
const outbound = (set: ResourceSet) => set.clusters.filter((c) => c.name.startsWith('outbound|'));

/** The URI SAN prefix a cluster's mTLS socket accepts. */
function sanPrefix(c: Cluster): string | undefined {
  const ts = c.transportSocketMatches.find((x) => x.name === 'mtls')?.transportSocket;
  const ctx = ts?.configType.case === 'typedConfig' ? anyUnpack(ts.configType.value, UpstreamTlsContextSchema) : undefined;
  const v = ctx?.commonTlsContext?.validationContextType;
  const matcher = v?.case === 'combinedValidationContext' ? v.value.defaultValidationContext?.matchTypedSubjectAltNames[0]?.matcher : undefined;
  return matcher?.matchPattern.case === 'prefix' ? matcher.matchPattern.value : undefined;
}

describe('translation sharing under mTLS', () => {
  it('shares everything between proxies whose labels give the same modes', () => {
    const a = translate(m, withId(sidecar('shop', 'pay', 'a'), 'pay-a', { app: 'pay' }));
    const b = translate(m, withId(sidecar('shop', 'pay', 'b'), 'pay-b', { app: 'pay', version: 'v2' }));
    expect(b).toBe(a);
    expect(checkConsistency(a)).toEqual([]);
  });

  it('separates proxies whose labels change a mode, yet still shares their outbound parts', () => {
    const stable = translate(m, withId(sidecar('shop', 'pay'), 'pay', { app: 'pay' }));
    const canary = translate(m, withId(sidecar('shop', 'pay'), 'pay', { app: 'pay', track: 'canary' }));
    expect(canary).not.toBe(stable);
    expect(listener(canary, 'virtualInbound')).not.toBe(listener(stable, 'virtualInbound'));
    expect(canary.endpoints).toBe(stable.endpoints);
    outbound(canary).forEach((c, i) => expect(c).toBe(outbound(stable)[i]));
    expect(canary.routes).toBe(stable.routes);
  });

  it('gives TLS only to proxies with a certificate, per trust domain, never to proxyless gRPC', () => {
    const withCert = translate(m, withId(sidecar('shop'), 'web'));
    const without = translate(m, sidecar('shop'));
    const otherDomain = translate(m, { ...sidecar('shop'), identity: ID('web', 'example.org') });
    const grpc = translate(m, withId(proxylessClient('shop'), 'grpc'));
    expect(outbound(withCert).every(hasMatches)).toBe(true);
    expect(outbound(without).some(hasMatches)).toBe(false);
    expect(outbound(grpc).some(hasMatches)).toBe(false);
    expect(outbound(otherDomain)[0]).not.toBe(outbound(withCert)[0]);
    expect(sanPrefix(outbound(otherDomain)[0] as Cluster)).toBe('spiffe://example.org/');
    expect(sanPrefix(outbound(withCert)[0] as Cluster)).toBe('spiffe://cluster.local/');
    // A malformed identity is not a certificate: no TLS rather than a broken one.
    expect(translate(m, { ...sidecar('shop'), identity: 'nonsense' })).toBe(without);
    // CLAs are the same objects for everyone (the mTLS mark is data on them).
    for (const set of [without, otherDomain, grpc]) expect(set.endpoints).toBe(withCert.endpoints);
  });
});

describe('explicit-mode inbound listener', () => {
  const pay = (extra: Partial<ProxyInfo>) => ({ ...explicitProxy('shop'), service: 'pay', labels: { app: 'pay' }, identity: ID('pay'), ...extra });

  it('exists only with an inbound port and a known service with a numeric targetPort', () => {
    expect(listener(translate(m, pay({})), EXPLICIT_INBOUND_LISTENER)).toBeUndefined();
    expect(listener(translate(m, pay({ service: 'nope', inboundPort: 15008 })), EXPLICIT_INBOUND_LISTENER)).toBeUndefined();
    const set = translate(m, pay({ inboundPort: 15008 }));
    expect(listener(set, EXPLICIT_INBOUND_LISTENER)?.address?.address.value).toMatchObject({ address: '0.0.0.0', portSpecifier: { value: 15008 } });
    expect(set.clusters.filter((c) => c.name.startsWith('inbound|')).map((c) => c.name)).toEqual(['inbound|8080||']);
    expect(checkConsistency(set)).toEqual([]);
    const named = model(
      service('pay', [{ name: 'http', port: 80, targetPort: 'http' }]),
      slice('pay-1', 'pay', [{ name: 'http', port: 15008 }], [{ ip: '10.0.0.1' }]),
    );
    expect(listener(translate(named, pay({ inboundPort: 15008 })), EXPLICIT_INBOUND_LISTENER)).toBeUndefined();
  });

  it('fronts the lowest service port with a numeric targetPort', () => {
    const multi = model(
      service('pay', [
        { name: 'grpc', port: 50051, targetPort: 50051 },
        { name: 'http', port: 80, targetPort: 'web' },
        { name: 'http-admin', port: 9000, targetPort: 19000 },
      ]),
    );
    const set = translate(multi, pay({ inboundPort: 15008 }));
    expect(set.clusters.filter((c) => c.name.startsWith('inbound|')).map((c) => c.name)).toEqual(['inbound|19000||']);
  });
});

describe('WEFT_INBOUND_PORT', () => {
  const node = (metadata: Record<string, unknown>) => create(NodeSchema, { id: 'n', userAgentName: 'envoy', metadata: metadata as never });

  it('sets inboundPort for explicit sidecars only, and splits proxy groups', () => {
    const r = proxyFromNode(node({ WEFT_CAPTURE: 'false', WEFT_SERVICE: 'pay', WEFT_INBOUND_PORT: '15008' }));
    expect(r).toMatchObject({ ok: true, proxy: { inboundPort: 15008 } });
    const captured = proxyFromNode(node({ WEFT_INBOUND_PORT: '15008' }));
    expect(captured.ok && captured.proxy.inboundPort).toBe(undefined);
    const other = proxyFromNode(node({ WEFT_CAPTURE: 'false', WEFT_SERVICE: 'pay', WEFT_INBOUND_PORT: '15009' }));
    expect(r.ok && other.ok && proxyGroupKey(r.proxy) !== proxyGroupKey(other.proxy)).toBe(true);
  });

  it('rejects bad ports and a clash with the outbound listener', () => {
    expect(proxyFromNode(node({ WEFT_CAPTURE: 'false', WEFT_INBOUND_PORT: '70000' }))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('WEFT_INBOUND_PORT'),
    });
    expect(proxyFromNode(node({ WEFT_CAPTURE: 'false', WEFT_INBOUND_PORT: '15001' }))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('outbound'),
    });
    expect(proxyFromNode(node({ WEFT_CAPTURE: 'false', WEFT_OUTBOUND_PORT: '16001', WEFT_INBOUND_PORT: '15001' })).ok).toBe(true);
  });
});
