// A standalone proxy may move its explicit HTTP proxy listener off the default port
// (`weft bootstrap --outbound-port`), so several proxies can share one host.
import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { NodeSchema, type Node } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { proxyFromNode } from '../../xds/resources/node-info.ts';
import { proxyGroupKey } from '../../xds/resources/proxy.ts';
import { translate } from '../../xds/translate/index.ts';
import { MeshPorts } from '../../src/base/mesh-ports.ts';
import { explicitProxy, model, service } from './fixtures.ts';

const node = (metadata: Record<string, unknown>): Node => create(NodeSchema, { id: 'vm-1', metadata: metadata as Node['metadata'] });

function listenerPort(outboundPort?: number): number | undefined {
  const proxy = { ...explicitProxy('shop'), ...(outboundPort ? { outboundPort } : {}) };
  const [listener] = translate(model(service('web', [{ name: 'http', port: 8080 }], { ns: 'shop' })), proxy).listeners;
  const addr = listener?.address?.address;
  return addr?.case === 'socketAddress' && addr.value.portSpecifier.case === 'portValue' ? addr.value.portSpecifier.value : undefined;
}

describe('explicit outbound port', () => {
  it('defaults to MeshPorts.outbound and honours the proxy override', () => {
    expect(listenerPort()).toBe(MeshPorts.outbound);
    expect(listenerPort(25001)).toBe(25001);
  });

  it('is read from node metadata WEFT_OUTBOUND_PORT and separates proxy groups', () => {
    const a = proxyFromNode(node({ WEFT_CAPTURE: 'false', WEFT_OUTBOUND_PORT: '25001' }));
    const b = proxyFromNode(node({ WEFT_CAPTURE: 'false' }));
    expect(a.ok && a.proxy.outboundPort).toBe(25001);
    expect(a.ok && b.ok && proxyGroupKey(a.proxy) !== proxyGroupKey(b.proxy)).toBe(true);
  });

  it('rejects a bad port naming the field', () => {
    const r = proxyFromNode(node({ WEFT_CAPTURE: 'false', WEFT_OUTBOUND_PORT: '70000' }));
    expect(r).toEqual({ ok: false, reason: expect.stringContaining('node.metadata.WEFT_OUTBOUND_PORT: must be 1-65535') });
  });
});
