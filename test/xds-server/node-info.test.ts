// Node metadata → ProxyInfo: Weft keys, defaults, gRPC proxyless detection, and invalid
// input reported as data naming the field.
import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { NodeSchema, type Node } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { isGrpcUserAgent, proxyFromNode } from '../../xds/resources/node-info.ts';

function node(metadata: Record<string, unknown>, userAgentName = 'envoy', id = 'web-1'): Node {
  return create(NodeSchema, { id, userAgentName, metadata: metadata as Node['metadata'] });
}

describe('proxyFromNode', () => {
  it('reads every Weft key of a sidecar', () => {
    const n = node({
      WEFT_NAMESPACE: 'shop',
      WEFT_SERVICE: 'web',
      WEFT_CAPTURE: 'false',
      WEFT_LABELS: { app: 'web', version: 'v2' },
      WEFT_PROXY_KIND: 'sidecar',
      ISTIO_VERSION: '1.22', // foreign keys are ignored
    });
    expect(proxyFromNode(n)).toEqual({
      ok: true,
      proxy: { id: 'web-1', kind: 'sidecar', namespace: 'shop', service: 'web', labels: { app: 'web', version: 'v2' }, capture: false },
    });
  });

  it('reads WEFT_EGRESS (weft.dev/egress syntax) resolved in the claimed namespace; a bad value names the entry', () => {
    expect(proxyFromNode(node({ WEFT_NAMESPACE: 'shop', WEFT_EGRESS: './checkout, payments/*' }))).toMatchObject({
      ok: true,
      proxy: { namespace: 'shop', egress: ['payments/*', 'shop/checkout'] },
    });
    const all = proxyFromNode(node({ WEFT_EGRESS: '*/*' }));
    expect(all.ok && 'egress' in all.proxy).toBe(false);
    expect(proxyFromNode(node({ WEFT_EGRESS: 'checkout' }))).toEqual({
      ok: false,
      reason: 'node.metadata.WEFT_EGRESS: "checkout" is not <namespace>/<service> (use "./checkout" for a service of the proxy\'s own namespace)',
    });
  });

  it('applies the default scope (--egress-default) only when WEFT_EGRESS is absent; "*/*" keeps a proxy unscoped', () => {
    const defaults = { egressDefault: [{ namespace: '.', service: '*' }] };
    expect(proxyFromNode(node({ WEFT_NAMESPACE: 'shop' }), undefined, defaults)).toMatchObject({ ok: true, proxy: { egress: ['shop/*'] } });
    expect(proxyFromNode(node({ WEFT_NAMESPACE: 'shop', WEFT_EGRESS: 'payments/billing' }), undefined, defaults)).toMatchObject({
      ok: true,
      proxy: { egress: ['payments/billing'] },
    });
    const all = proxyFromNode(node({ WEFT_EGRESS: '*/*' }), undefined, defaults);
    expect(all.ok && 'egress' in all.proxy).toBe(false);
  });

  it('reads the zone from node.locality (Envoy --service-zone); an empty zone is no zone; a bad one is refused', () => {
    const withZone = (zone: string) => create(NodeSchema, { id: 'web-1', userAgentName: 'envoy', locality: { zone } });
    expect(proxyFromNode(withZone('eu-west-1a'))).toMatchObject({ ok: true, proxy: { zone: 'eu-west-1a' } });
    const none = proxyFromNode(withZone(''));
    expect(none.ok && 'zone' in none.proxy).toBe(false);
    expect(proxyFromNode(withZone('no spaces please'))).toEqual({ ok: false, reason: expect.stringContaining('node.locality.zone') });
  });

  it('defaults: namespace "default", captured sidecar, no labels', () => {
    expect(proxyFromNode(node({}))).toEqual({
      ok: true,
      proxy: { id: 'web-1', kind: 'sidecar', namespace: 'default', labels: {}, capture: true },
    });
  });

  it("treats gRPC's user agent, or WEFT_PROXY_KIND, as proxyless (never captured)", () => {
    for (const ua of ['gRPC Node Pure JS', 'gRPC Go', 'gRPC Java', 'gRPC C-core linux']) expect(isGrpcUserAgent(ua)).toBe(true);
    expect(isGrpcUserAgent('envoy')).toBe(false);
    expect(proxyFromNode(node({ WEFT_NAMESPACE: 'shop' }, 'gRPC Node Pure JS'))).toEqual({
      ok: true,
      proxy: { id: 'web-1', kind: 'proxyless', namespace: 'shop', labels: {}, capture: false },
    });
    expect(proxyFromNode(node({ WEFT_PROXY_KIND: 'proxyless' }))).toMatchObject({ ok: true, proxy: { kind: 'proxyless', capture: false } });
    // An explicit kind wins over the user agent.
    expect(proxyFromNode(node({ WEFT_PROXY_KIND: 'sidecar' }, 'gRPC Go'))).toMatchObject({ ok: true, proxy: { kind: 'sidecar' } });
  });

  it('accepts a Struct boolean for WEFT_CAPTURE', () => {
    expect(proxyFromNode(node({ WEFT_CAPTURE: false }))).toMatchObject({ ok: true, proxy: { capture: false } });
  });

  it('reports every invalid key with its reason', () => {
    const result = proxyFromNode(node({ WEFT_NAMESPACE: 'Shop_1', WEFT_CAPTURE: 'yes', WEFT_LABELS: { app: 3 }, WEFT_PROXY_KIND: 'gateway' }));
    expect(result).toEqual({
      ok: false,
      reason: [
        'node.metadata.WEFT_NAMESPACE: must be a DNS-1123 label',
        'node.metadata.WEFT_CAPTURE: must be "true" or "false"',
        'node.metadata.WEFT_LABELS.app: label values must be strings',
        'node.metadata.WEFT_PROXY_KIND: must be "sidecar" or "proxyless"',
      ].join('; '),
    });
    expect(proxyFromNode(node({ WEFT_PROXY_KIND: 'proxyless', WEFT_CAPTURE: 'true' }))).toEqual({
      ok: false,
      reason: 'node.metadata.WEFT_CAPTURE: must be "false" for proxyless clients (nothing captures their traffic)',
    });
    expect(proxyFromNode(undefined)).toEqual({ ok: false, reason: 'node: missing (the first request on a stream must carry it)' });
  });
});
