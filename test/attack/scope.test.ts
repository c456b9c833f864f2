// Finding 4 of issue 13: a proxy's claimed namespace and Service were not checked against its
// credential — identity shop/web received payments/billing's inbound config and was listed as
// a payments proxy. Now (xds/server/scope.ts) the claim is held to the credential on the
// stream's first request: a client certificate for shop/web claiming payments/billing, and a
// token bound to a shop Pod claiming payments, are refused with PERMISSION_DENIED naming the
// claim; a token's proxy gets its Pod's labels, never the ones it sends; a claimed Service
// that does not select the Pod is refused. Before: every one of these streams was served.
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { processMetrics } from '../../src/base/metrics.ts';
import { newIssuer } from '../identity/support.ts';
import { startSecureServer, type SecureServer } from '../sds/support.ts';
import { envoyNode, SotwClient } from '../xds-server/support/client.ts';
import { debugProxies } from '../../xds/server/debug.ts';
import type { PodRef } from '../../src/identity/token.ts';

async function refused(): Promise<number> {
  const m = (await (await processMetrics()).getSingleMetric('weft_xds_scope_refused_total')?.get())?.values ?? [];
  return m.reduce((s, v) => s + v.value, 0);
}

describe('attack: a proxy claiming a namespace or Service outside its credential', () => {
  const issuer = newIssuer();
  const pods = new Map<string, PodRef>([
    ['shop/web-1', { uid: 'uid-web-1', serviceAccount: 'web', labels: { app: 'web', version: 'v1' } }],
    ['shop/web-2', { uid: 'uid-web-2', serviceAccount: 'web', labels: { app: 'web' }, egress: { source: 'pod', hosts: ['shop/checkout'] } }],
    ['shop/web-3', { uid: 'uid-web-3', serviceAccount: 'web', labels: { app: 'web' }, egress: { source: 'none' } }],
  ]);
  let s: SecureServer;
  beforeAll(async () => {
    s = await startSecureServer({
      tokens: { jwks: { fetch: async () => issuer.jwks, issuer: issuer.issuer }, podLookup: (ns, name) => pods.get(`${ns}/${name}`) },
    });
    s.cache.setModel({
      version: 'scope-1',
      services: new Map([
        ['shop/web', { namespace: 'shop', name: 'web', selector: { app: 'web' }, ports: [] }],
        ['shop/checkout', { namespace: 'shop', name: 'checkout', selector: { app: 'checkout' }, ports: [] }],
        ['payments/billing', { namespace: 'payments', name: 'billing', selector: { app: 'billing' }, ports: [] }],
      ]),
      peerAuths: [],
      authorizations: [],
      statuses: [],
    });
  });
  afterAll(() => s.close());

  it('refuses certificate identity shop/web claiming payments/billing, and serves its honest claim', async () => {
    const before = await refused();
    const cert = await s.svid('shop', 'web');
    const bad = new SotwClient(s.client({ cert }), envoyNode('web-1.shop', { WEFT_NAMESPACE: 'payments', WEFT_SERVICE: 'billing' }));
    bad.request(TypeUrl.Cluster);
    const st = await bad.status;
    console.log(`[scope] cert shop/web claiming payments/billing: ${status[st.code]} ${st.details}`);
    expect(st.code).toBe(status.PERMISSION_DENIED);
    expect(st.details).toMatch(
      /WEFT_NAMESPACE "payments" is not the namespace of this proxy's credential \(spiffe:\/\/cluster\.local\/ns\/shop\/sa\/web runs in "shop"\)/,
    );
    expect(await refused()).toBe(before + 1);
    expect(debugProxies(await s.server.streams.debug()).some((p) => p.namespace === 'payments')).toBe(false);

    const good = new SotwClient(s.client({ cert }), envoyNode('web-1.shop', { WEFT_NAMESPACE: 'shop', WEFT_SERVICE: 'web' }));
    good.request(TypeUrl.Cluster);
    expect((await good.next()).typeUrl).toBe(TypeUrl.Cluster);
    good.close();
  });

  it('refuses a token bound to a shop Pod claiming payments', async () => {
    const c = new SotwClient(s.client({ token: issuer.token() }), envoyNode('web-1.shop', { WEFT_NAMESPACE: 'payments', WEFT_SERVICE: 'billing' }));
    c.request(TypeUrl.Cluster);
    const st = await c.status;
    expect(st.code).toBe(status.PERMISSION_DENIED);
    expect(st.details).toMatch(/is not the namespace of this proxy's credential/);
  });

  it('gives a token’s proxy its Pod’s labels, and refuses a Service that does not select the Pod', async () => {
    const c = new SotwClient(
      s.client({ token: issuer.token() }),
      envoyNode('web-1.shop', { WEFT_SERVICE: 'web', WEFT_LABELS: { app: 'checkout', tier: 'forged' } }),
    );
    c.request(TypeUrl.Cluster);
    await c.next();
    const seen = (await s.server.streams.debug()).find((d) => d.proxy.id === 'web-1.shop' && d.proxy.service === 'web');
    expect(seen?.proxy.labels).toEqual({ app: 'web', version: 'v1' });
    c.close();

    const other = new SotwClient(s.client({ token: issuer.token() }), envoyNode('web-1.shop', { WEFT_SERVICE: 'checkout', WEFT_LABELS: { app: 'checkout' } }));
    other.request(TypeUrl.Cluster);
    const st = await other.status;
    expect(st.code).toBe(status.PERMISSION_DENIED);
    expect(st.details).toMatch(/Service shop\/checkout does not select this proxy's Pod/);
  });

  it('gives a token’s proxy the egress scope of its Pod, whatever WEFT_EGRESS says', async () => {
    const scopeOf = async (pod: string, metadata: Record<string, unknown>) => {
      const c = new SotwClient(s.client({ token: issuer.token({ pod: { name: pod, uid: `uid-${pod}` } }) }), envoyNode(`${pod}.shop`, metadata));
      c.request(TypeUrl.Cluster);
      await c.next();
      const seen = (await s.server.streams.debug()).find((d) => d.proxy.id === `${pod}.shop`);
      c.close();
      return seen?.proxy.egress;
    };
    expect(await scopeOf('web-2', { WEFT_EGRESS: '*/*' })).toEqual(['shop/checkout']);
    expect(await scopeOf('web-3', { WEFT_EGRESS: 'payments/*' })).toBeUndefined();
  });
});
