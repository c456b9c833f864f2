// The mesh view's pure parts: reading Envoy's Prometheus text (both ways the cluster name can
// come out), rates and quantiles between two readings, where a proxy's stats are, the graph
// (splits, mTLS, sync state), and the access check (TokenReview + SubjectAccessReview) with a
// scripted API client. The real Envoys and API server: *.integration.test.ts and e2e/.
import { describe, expect, it } from 'vitest';
import { HttpMethod } from '@kubernetes/client-node';
import { parseClusterStats } from '../../src/runtime/meshview/prom-text.ts';
import { deltaOf, quantile, signalsOf } from '../../src/runtime/meshview/edge-stats.ts';
import { statsUrl } from '../../src/runtime/meshview/view.ts';
import { buildMeshView, parseOutboundCluster } from '../../src/runtime/meshview/graph.ts';
import { MeshViewSchema } from '../../src/runtime/meshview/shape.ts';
import { kubeAccess } from '../../src/runtime/access/kube-access.ts';
import { bearerToken } from '../../src/runtime/access/access.ts';
import { startMonitoring } from '../../src/runtime/monitoring.ts';
import { log } from '../../src/base/log.ts';
import type { MeshModel, MeshService } from '../../src/model/types.ts';
import type { StreamDebug } from '../../xds/server/stream-debug.ts';
import type { ProxyInfo } from '../../xds/resources/proxy.ts';

const V1 = 'outbound|8080||checkout-v1.shop.svc.cluster.local';

describe('parseClusterStats', () => {
  it('restores a cluster name Envoy cut at its first dot, and reads the whole name from a tag', () => {
    const text = [
      '# TYPE envoy_cluster_shop_svc_cluster_local_upstream_rq_total counter',
      'envoy_cluster_shop_svc_cluster_local_upstream_rq_total{envoy_cluster_name="outbound|8080||checkout-v1"} 40',
      'envoy_cluster_my_team_svc_cluster_local_upstream_rq_total{envoy_cluster_name="outbound|80||api"} 5',
      'envoy_cluster_upstream_rq_total{envoy_cluster_name="outbound|8080||checkout-v2.shop.svc.cluster.local",extra="a"} 3',
      'envoy_cluster_upstream_rq_total{envoy_cluster_name="outbound|8080||checkout-v2.shop.svc.cluster.local",extra="b"} 4',
      // Not ours: other stat prefixes, and the xDS cluster.
      'envoy_cluster_shop_svc_cluster_local_external_upstream_rq_xx{envoy_response_code_class="2",envoy_cluster_name="outbound|8080||checkout-v1"} 99',
      'envoy_cluster_external_upstream_rq_total{envoy_cluster_name="weft-xds"} 1',
      'envoy_cluster_shop_svc_cluster_local_upstream_rq_xx{envoy_response_code_class="2",envoy_cluster_name="outbound|8080||checkout-v1"} 36',
      'envoy_cluster_shop_svc_cluster_local_upstream_rq_xx{envoy_response_code_class="5",envoy_cluster_name="outbound|8080||checkout-v1"} 4',
      'envoy_cluster_shop_svc_cluster_local_upstream_rq_retry{envoy_cluster_name="outbound|8080||checkout-v1"} 2',
      'envoy_cluster_shop_svc_cluster_local_upstream_rq_time_bucket{envoy_cluster_name="outbound|8080||checkout-v1",le="1"} 10',
      'envoy_cluster_shop_svc_cluster_local_upstream_rq_time_bucket{envoy_cluster_name="outbound|8080||checkout-v1",le="5"} 30',
      'envoy_cluster_shop_svc_cluster_local_upstream_rq_time_bucket{envoy_cluster_name="outbound|8080||checkout-v1",le="+Inf"} 40',
      'garbage line {',
      'envoy_cluster_upstream_rq_total{envoy_cluster_name="quote\\"d"} 1',
    ].join('\n');
    const s = parseClusterStats(text);
    expect(s.get(V1)).toEqual({
      total: 40,
      byClass: { '2': 36, '5': 4 },
      retries: 2,
      buckets: [
        [1, 10],
        [5, 30],
        [Infinity, 40],
      ],
    });
    expect(s.get('outbound|80||api.my-team.svc.cluster.local')?.total).toBe(5);
    expect(s.get('outbound|8080||checkout-v2.shop.svc.cluster.local')?.total).toBe(7);
    expect(s.get('quote"d')?.total).toBe(1);
    expect(s.has('weft-xds')).toBe(false);
    expect(parseClusterStats(text, (c) => c.startsWith('outbound|')).has('quote"d')).toBe(false);
  });
});

describe('rates and quantiles', () => {
  const at = (total: number, ok: number, err: number, buckets: Array<[number, number]>) => ({ total, byClass: { '2': ok, '5': err }, retries: 0, buckets });

  it('rate, success rate and p99 over the interval between two readings', () => {
    const d = deltaOf(
      at(100, 95, 5, [
        [1, 50],
        [10, 100],
        [Infinity, 100],
      ]),
      at(300, 285, 15, [
        [1, 150],
        [10, 298],
        [Infinity, 300],
      ]),
      2,
    )!;
    expect(d.buckets).toEqual([
      [1, 100],
      [10, 98],
      [Infinity, 2],
    ]);
    const s = signalsOf(d);
    expect(s.requestRate).toBe(100);
    expect(s.successRate).toBeCloseTo(0.95, 10);
    // rank 198 of 200: the 98th of 98 in (1, 10]: 10 exactly; p50 inside (0, 1].
    expect(s.p99Ms).toBeCloseTo(10, 10);
    expect(quantile(d.buckets, 0.5)).toBeCloseTo(1, 10);
  });

  it('a counter that went backwards (restart) gives no interval; no observations give nulls', () => {
    expect(deltaOf(at(10, 10, 0, []), at(5, 5, 0, []), 1)).toBeUndefined();
    expect(signalsOf(deltaOf(at(0, 0, 0, []), at(0, 0, 0, []), 1)!)).toEqual({ requestRate: 0, successRate: null, p99Ms: null, retryRate: 0 });
    expect(quantile([[Infinity, 3]], 0.99)).toBe(0);
  });
});

const proxy = (p: Partial<ProxyInfo> = {}): ProxyInfo => ({ id: 'p1', kind: 'sidecar', namespace: 'shop', labels: {}, capture: true, ...p });

describe('statsUrl: the proxy own address, on the port it announced', () => {
  it.each([
    ['10.244.0.7:41234', proxy(), 'http://10.244.0.7:15090/'],
    ['::ffff:10.244.0.7:41234', proxy(), 'http://10.244.0.7:15090/'],
    ['::1:41234', proxy({ capture: false, statsPort: 15000 }), 'http://[::1]:15000/'],
    ['127.0.0.1:41234', proxy({ capture: false }), undefined],
    ['127.0.0.1:41234', proxy({ kind: 'proxyless', capture: false }), undefined],
    ['unix:/run/x.sock', proxy(), undefined],
  ])('%s', (peer, p, want) => {
    const url = statsUrl({ peer, proxy: p });
    if (want === undefined) expect(url).toBeUndefined();
    else expect(url?.startsWith(`${want}stats/prometheus?usedonly&filter=`)).toBe(true);
  });
});

function service(name: string, endpoints: { address: string; meshed?: boolean }[], split?: MeshService['split']): MeshService {
  return {
    namespace: 'shop',
    name,
    ports: [
      {
        name: 'http',
        port: 8080,
        targetPort: 8080,
        protocol: 'TCP',
        appProtocol: 'http',
        endpoints: endpoints.map((e) => ({ address: e.address, port: 8080, ready: true, ...(e.meshed !== undefined ? { meshed: e.meshed } : {}) })),
      },
    ],
    ...(split ? { split } : {}),
  };
}

describe('buildMeshView', () => {
  const model: MeshModel = {
    services: new Map([
      [
        'shop/checkout',
        service('checkout', [], {
          policy: 'shop/checkout',
          backends: [
            { service: 'checkout-v1', weight: 9 },
            { service: 'checkout-v2', weight: 1 },
          ],
          matches: [],
        }),
      ],
      ['shop/checkout-v1', service('checkout-v1', [{ address: '10.0.0.1', meshed: true }])],
      ['shop/checkout-v2', service('checkout-v2', [{ address: '10.0.0.2', meshed: true }, { address: '10.0.0.3' }])],
    ]),
    peerAuths: [{ policy: 'shop/default', namespace: 'shop', meshWide: false, mode: 'STRICT', portModes: {} }],
    authorizations: [],
    statuses: [],
    version: 'm1',
  };
  const stream = (id: string, nack = false): StreamDebug => ({
    stream: id,
    protocol: 'sotw',
    proxy: proxy({ id: `client-${id}`, labels: { app: 'client' } }),
    group: 'g',
    connectedSince: '2026-01-01T00:00:00.000Z',
    types: [
      { typeUrl: 'type.googleapis.com/envoy.config.cluster.v3.Cluster', subscribed: '*', versionSent: 'a', versionAcked: 'a' },
      {
        typeUrl: 'type.googleapis.com/envoy.config.listener.v3.Listener',
        subscribed: '*',
        versionSent: 'b',
        versionAcked: nack ? 'x' : 'b',
        ...(nack ? { lastNack: { nonce: 'n', version: 'b', message: 'bad listener', at: '' } } : {}),
      },
    ] as StreamDebug['types'],
  });
  const delta = (requests: number) => ({
    seconds: 2,
    requests,
    responses: requests,
    errors: 0,
    retries: 0,
    buckets: [[5, requests]] as Array<[number, number]>,
  });

  it('sums callers of one service per edge, shows the split as programmed and observed, mTLS per edge, sync per proxy', () => {
    const view = buildMeshView({
      model,
      streams: [stream('s1'), stream('s2', true)],
      scrapes: new Map([
        ['s1', { state: 'ok', at: '', deltas: new Map([[V1, delta(90)]]) }],
        [
          's2',
          {
            state: 'ok',
            at: '',
            deltas: new Map([
              [V1, delta(90)],
              ['outbound|8080||checkout-v2.shop.svc.cluster.local', delta(20)],
            ]),
          },
        ],
      ]),
      round: { at: 'now', windowSeconds: 2, targets: 2, failed: 0 },
      intervalMs: 2000,
      certificates: [{ kind: 'workload', subject: 'spiffe://cluster.local/ns/shop/sa/client', notAfter: new Date(3_600_000).toISOString() }],
      now: 0,
    });
    expect(() => MeshViewSchema.parse(view)).not.toThrow();
    const e = (kind: string, dest: string) => view.edges.find((x) => x.kind === kind && x.destination === dest);
    expect(e('traffic', 'shop/checkout-v1')).toMatchObject({ source: 'shop/client', requestRate: 90, successRate: 1, mtls: 'mtls' });
    expect(e('traffic', 'shop/checkout-v2')).toMatchObject({ requestRate: 10, mtls: 'mixed' });
    expect(e('split', 'shop/checkout-v1')).toMatchObject({ source: 'shop/checkout', weight: 90, observedShare: 90, requestRate: 90 });
    expect(e('split', 'shop/checkout-v2')).toMatchObject({ weight: 10, observedShare: 10 });
    expect(view.services.find((s) => s.id === 'shop/client')).toMatchObject({ kind: 'workload', proxies: 2, mtlsMode: 'STRICT' });
    expect(view.services.find((s) => s.id === 'shop/checkout-v2')?.endpoints).toEqual({ total: 2, ready: 2, meshed: 1 });
    expect(view.proxies.map((p) => p.sync)).toEqual(['synced', 'nacked']);
    expect(view.proxies[1]?.types[1]).toMatchObject({ type: 'Listener', nack: 'bad listener' });
    expect(view.certificates[0]?.expiresInSeconds).toBe(3600);
  });

  it('before two scrapes: the split as programmed, no rates', () => {
    const view = buildMeshView({ model, streams: [], scrapes: new Map(), round: undefined, intervalMs: 5000, certificates: [], now: 0 });
    expect(view.edges.filter((x) => x.kind === 'traffic')).toEqual([]);
    expect(view.edges.find((x) => x.kind === 'split')).toMatchObject({ weight: 90, requestRate: null, observedShare: null });
  });

  it('parseOutboundCluster', () => {
    expect(parseOutboundCluster(V1)).toEqual({ id: 'shop/checkout-v1', port: 8080 });
    expect(parseOutboundCluster('inbound|8080||')).toBeUndefined();
  });
});

describe('kubeAccess: TokenReview + SubjectAccessReview', () => {
  function client(opts: { user?: string; allowed?: boolean; fail?: boolean }) {
    const calls: { path: string; body: unknown }[] = [];
    return {
      calls,
      request: async <T>(method: HttpMethod, path: string, o: { body?: unknown } = {}): Promise<T> => {
        expect(method).toBe(HttpMethod.POST);
        calls.push({ path, body: o.body });
        if (opts.fail) throw new Error('connection refused');
        if (path.endsWith('/tokenreviews')) {
          return { status: opts.user ? { authenticated: true, user: { username: opts.user, groups: ['g1'] } } : { authenticated: false } } as T;
        }
        return { status: { allowed: opts.allowed ?? false } } as T;
      },
    };
  }

  it('401 without a bearer token or for a token the API server does not know; nothing asked without one', async () => {
    const c = client({});
    const a = kubeAccess({ client: c, log });
    expect(await a.check({})).toMatchObject({ ok: false, status: 401 });
    expect(await a.check({ authorization: 'Basic abc' })).toMatchObject({ ok: false, status: 401 });
    expect(c.calls).toHaveLength(0);
    expect(await a.check({ authorization: 'Bearer abc' })).toMatchObject({ ok: false, status: 401 });
    expect(c.calls.map((x) => x.path)).toEqual(['/apis/authentication.k8s.io/v1/tokenreviews']);
  });

  it('403 names the user and the right; 200 asks SubjectAccessReview for get proxies.mesh.weft.dev with the user groups', async () => {
    expect(await kubeAccess({ client: client({ user: 'alice' }), log }).check({ authorization: 'Bearer t' })).toEqual({
      ok: false,
      status: 403,
      reason: 'alice may not get proxies.mesh.weft.dev cluster-wide',
    });
    const c = client({ user: 'bob', allowed: true });
    expect(await kubeAccess({ client: c, log }).check({ authorization: 'Bearer t', namespace: 'shop' })).toEqual({ ok: true, user: 'bob' });
    expect(c.calls[1]?.body).toMatchObject({
      spec: { user: 'bob', groups: ['g1'], resourceAttributes: { group: 'mesh.weft.dev', resource: 'proxies', verb: 'get', namespace: 'shop' } },
    });
  });

  it('caches a decision per token for cacheMs (one review for a polling page), never an API failure', async () => {
    let now = 0;
    const c = client({ user: 'bob', allowed: true });
    const a = kubeAccess({ client: c, log, cacheMs: 10_000, now: () => now });
    await Promise.all([a.check({ authorization: 'Bearer t' }), a.check({ authorization: 'Bearer t' })]);
    now = 9_000;
    await a.check({ authorization: 'Bearer t' });
    expect(c.calls).toHaveLength(2);
    now = 20_000;
    await a.check({ authorization: 'Bearer t' });
    expect(c.calls).toHaveLength(4);

    const down = client({ fail: true });
    const b = kubeAccess({ client: down, log, now: () => now });
    expect(await b.check({ authorization: 'Bearer t' })).toMatchObject({ ok: false, status: 503 });
    await new Promise((r) => setImmediate(r));
    await b.check({ authorization: 'Bearer t' });
    expect(down.calls).toHaveLength(2);
  });

  it('per namespace: one TokenReview per token, one SubjectAccessReview per namespace, each cached; the cache is bounded', async () => {
    const c = client({ user: 'alice', allowed: true });
    const a = kubeAccess({ client: c, log, maxCached: 2 });
    await Promise.all(['a', 'b', 'a', 'b'].map((namespace) => a.check({ authorization: 'Bearer t', namespace })));
    expect(c.calls.map((x) => x.path.split('/').pop())).toEqual(['tokenreviews', 'subjectaccessreviews', 'subjectaccessreviews']);
    expect(c.calls.slice(1).map((x) => (x.body as { spec: { resourceAttributes: { namespace?: string } } }).spec.resourceAttributes.namespace)).toEqual([
      'a',
      'b',
    ]);
    await a.check({ authorization: 'Bearer t', namespace: 'c' }); // evicts a
    await a.check({ authorization: 'Bearer t', namespace: 'a' });
    expect(c.calls.filter((x) => x.path.endsWith('subjectaccessreviews'))).toHaveLength(4);
  });

  it('bearerToken', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer  x ')).toBe('x');
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('monitoring: the Authorizer guards /debug/* and /mesh/api/*, nothing else', () => {
  it('401 with WWW-Authenticate, 403, 200; probes, /metrics and the page open', async () => {
    const m = await startMonitoring({
      address: '127.0.0.1:0',
      log,
      readiness: {},
      debug: { thing: () => ({ secret: false }) },
      access: {
        describe: 'test',
        check: async (r) =>
          r.authorization === undefined
            ? { ok: false, status: 401, reason: 'no' }
            : r.authorization === 'Bearer good'
              ? { ok: true }
              : { ok: false, status: 403, reason: 'nope' },
      },
    });
    try {
      const url = `http://127.0.0.1:${m.port}`;
      const none = await fetch(`${url}/debug/thing`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await fetch(`${url}/debug/thing`, { headers: { authorization: 'Bearer bad' } })).status).toBe(403);
      const ok = await fetch(`${url}/debug/thing`, { headers: { authorization: 'Bearer good' } });
      expect(await ok.json()).toEqual({ secret: false });
      for (const path of ['/healthz', '/readyz', '/metrics']) expect((await fetch(url + path)).status, path).toBe(200);
    } finally {
      await m.close();
    }
  });
});
