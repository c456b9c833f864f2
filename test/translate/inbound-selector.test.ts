// An injected sidecar names no service in its bootstrap (one Pod may back several): its
// inbound chains come from the Services whose selector matches its Pod's labels. Without
// this, clients' mTLS reached the app's plain port through the passthrough chain and every
// request failed (found on the real node, e2e/pods/controller.test.ts).
import { describe, expect, it } from 'vitest';
import { checkConsistency } from '../../xds/translate/consistency.ts';
import { inboundPlan } from '../../xds/translate/inbound.ts';
import { translate } from '../../xds/translate/index.ts';
import { model, service, sidecar } from './fixtures.ts';

const m = model(
  service('echo', [{ name: 'http', port: 80, targetPort: 8080 }], { ns: 'shop', selector: { app: 'echo' } }),
  service('echo-admin', [{ name: 'admin', port: 9090 }], { ns: 'shop', selector: { app: 'echo', tier: 'web' } }),
  service('other', [{ name: 'http', port: 80, targetPort: 7070 }], { ns: 'shop', selector: { app: 'other' } }),
  service('elsewhere', [{ name: 'http', port: 80, targetPort: 6060 }], { ns: 'prod', selector: { app: 'echo' } }),
  service('headless-selectorless', [{ name: 'http', port: 5050 }], { ns: 'shop' }),
);
const td = 'cluster.local';
const ports = (labels: Record<string, string>) => inboundPlan(m, { ...sidecar('shop'), labels }, td)?.ports.map((p) => p.targetPort);

describe('inbound ports of a captured sidecar without WEFT_SERVICE', () => {
  it('are the target ports of every Service in its namespace selecting its labels', () => {
    expect(ports({ app: 'echo', 'pod-template-hash': 'x' })).toEqual([8080]);
    expect(ports({ app: 'echo', tier: 'web' })).toEqual([8080, 9090]);
  });

  it('are none for labels no selector matches (only the passthrough)', () => {
    expect(ports({ app: 'nothing' })).toEqual([]);
    expect(ports({})).toEqual([]);
  });

  it('still follow WEFT_SERVICE when the proxy names one', () => {
    expect(inboundPlan(m, { ...sidecar('shop', 'other'), labels: { app: 'echo' } }, td)?.ports.map((p) => p.targetPort)).toEqual([7070]);
  });

  it('come with their inbound clusters, so the snapshot passes the consistency check and is published', () => {
    const set = translate(m, { ...sidecar('shop'), labels: { app: 'echo', tier: 'web' }, identity: 'spiffe://cluster.local/ns/shop/sa/default' });
    expect(set.clusters.map((c) => c.name).filter((n) => n.startsWith('inbound'))).toEqual(['inbound|8080||', 'inbound|9090||']);
    expect(set.listeners.find((l) => l.name === 'virtualInbound')?.filterChains.length).toBeGreaterThan(0);
    expect(checkConsistency(set)).toEqual([]);
  });
});
