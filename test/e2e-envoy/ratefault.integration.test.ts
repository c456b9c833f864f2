// RateLimitPolicy and FaultPolicy through real Envoys on loopback, each running the resources
// translate builds for it (static bootstrap, real SVIDs from Weft's CA as static secrets):
//   client-a, client-b  meshed callers (explicit HTTP proxies, their own identities);
//   server              fronts inventory (explicit inbound, mTLS), enforces its rate limits;
//   catalog, reviews    plain backends the callers' faults apply to (no server proxy needed:
//                       faults are injected on the caller side).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/model/build.ts';
import type { MeshModel } from '../../src/model/types.ts';
import type { ProxyInfo } from '../../xds/resources/proxy.ts';
import { EXPLICIT_INBOUND_LISTENER, EXPLICIT_OUTBOUND_LISTENER } from '../../xds/resources/names.ts';
import { translate } from '../../xds/translate/index.ts';
import type { CertificateAuthority } from '../../src/ca/authority.ts';
import { startBackend, type Backend } from '../support/backends.ts';
import { startEnvoy, type EnvoyHandle } from '../support/envoy.ts';
import { freePorts } from '../support/free-port.ts';
import { staticBootstrapYaml } from '../translate/static-bootstrap.ts';
import { parseDocuments } from '../translate/support.ts';
import { testCa, workloadSecrets } from '../translate/test-secrets.ts';
import { batch, countBy, paced, proxyClient, type Seen } from './ratefault-support.ts';

const identity = (sa: string) => `spiffe://cluster.local/ns/shop/sa/${sa}`;
const proxy = (id: string, extra: Partial<ProxyInfo> = {}): ProxyInfo => ({
  id,
  kind: 'sidecar',
  namespace: 'shop',
  labels: { app: id },
  capture: false,
  identity: identity(id),
  ...extra,
});

function meshYaml(apps: { inventory: number; catalog: number; reviews: number }, inbound: number): string {
  return `
apiVersion: v1
kind: Service
metadata: {name: inventory, namespace: shop, annotations: {weft.dev/mtls: "true"}}
spec: {selector: {app: inventory}, ports: [{name: http, port: 8080, targetPort: ${apps.inventory}}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: inventory-1, namespace: shop, labels: {kubernetes.io/service-name: inventory}}
addressType: IPv4
ports: [{name: http, port: ${inbound}}]
endpoints: [{addresses: [127.0.0.1]}]
---
apiVersion: mesh.weft.dev/v1alpha1
kind: RateLimitPolicy
metadata: {name: inventory, namespace: shop}
spec:
  targetRef: {kind: Service, name: inventory}
  rules:
    - match: {pathPrefix: /api, method: GET}
      limit: {requests: 20, interval: 1s, burst: 5}
    - match: {pathPrefix: /orders}
      limit: {requests: 5, interval: 1m}
      perCaller: true
${['catalog', 'reviews', 'grpc-echo']
  .map(
    (name) => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: shop}
spec: {ports: [{name: ${name === 'grpc-echo' ? 'grpc' : 'http'}, port: 8080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}-1, namespace: shop, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
ports: [{name: ${name === 'grpc-echo' ? 'grpc' : 'http'}, port: ${name === 'reviews' ? apps.reviews : apps.catalog}}]
endpoints: [{addresses: [127.0.0.1]}]
`,
  )
  .join('')}---
apiVersion: mesh.weft.dev/v1alpha1
kind: FaultPolicy
metadata: {name: catalog, namespace: shop}
spec:
  targetRef: {kind: Service, name: catalog}
  abort: {httpStatus: 418, percentage: 50}
---
apiVersion: mesh.weft.dev/v1alpha1
kind: FaultPolicy
metadata: {name: reviews, namespace: shop}
spec:
  targetRef: {kind: Service, name: reviews}
  delay: {fixedDelay: 200ms}
  headers: [{name: x-chaos, value: inject}]
---
apiVersion: mesh.weft.dev/v1alpha1
kind: FaultPolicy
metadata: {name: grpc-echo, namespace: shop}
spec:
  targetRef: {kind: Service, name: grpc-echo}
  abort: {grpcStatus: 14}
`;
}

async function startProxy(model: MeshModel, ca: CertificateAuthority, p: ProxyInfo, ports: Record<string, number>): Promise<EnvoyHandle> {
  const secrets = await workloadSecrets(ca, p.namespace, p.id);
  return startEnvoy({ bootstrapYaml: staticBootstrapYaml(translate(model, p), { secrets, listenerPorts: ports, nodeId: p.id }) });
}

let apps: Backend[] = [];
let envoys: EnvoyHandle[] = [];
let server: EnvoyHandle;
let a: ReturnType<typeof proxyClient>;
let b: ReturnType<typeof proxyClient>;
let clientA: EnvoyHandle;
let grpcPort = 0;

beforeAll(async () => {
  const ca = await testCa();
  const [aPort, bPort, inbound, serverOut] = (await freePorts(4)) as [number, number, number, number];
  apps = await Promise.all(['inventory', 'catalog', 'reviews'].map((name) => startBackend({ name })));
  const [inventory, catalog, reviews] = apps as [Backend, Backend, Backend];
  const model = buildModel(parseDocuments(meshYaml({ inventory: inventory.port, catalog: catalog.port, reviews: reviews.port }, inbound)));
  envoys = await Promise.all([
    startProxy(model, ca, proxy('client-a'), { [EXPLICIT_OUTBOUND_LISTENER]: aPort }),
    startProxy(model, ca, proxy('client-b'), { [EXPLICIT_OUTBOUND_LISTENER]: bPort }),
    startProxy(model, ca, proxy('inventory', { service: 'inventory', inboundPort: inbound }), {
      [EXPLICIT_INBOUND_LISTENER]: inbound,
      [EXPLICIT_OUTBOUND_LISTENER]: serverOut,
    }),
  ]);
  [clientA, , server] = envoys as [EnvoyHandle, EnvoyHandle, EnvoyHandle];
  a = proxyClient(aPort);
  b = proxyClient(bPort);
  grpcPort = aPort;
}, 60_000);

afterAll(async () => {
  a?.close();
  b?.close();
  await Promise.all(envoys.map((e) => e.stop()));
  await Promise.all(apps.map((x) => x.stop()));
});

describe('RateLimitPolicy on the receiving side', () => {
  it('20 requests/s (burst 5) on GET /api: 5 s at 100 requests/s → 100 ± 15 succeed, the rest 429 with retry-after', { timeout: 60_000 }, async () => {
    const seen = await paced(100, 5, () => a.send('http://inventory.shop:8080/api/items'));
    const by = countBy(seen);
    const limited = seen.filter((s) => s.status === 429);
    console.log(`[ratelimit] 500 requests at 100/s over 5 s against 20/s: ${JSON.stringify(by)} (loopback, 2 shared cores under contention)`);
    expect((by['200'] ?? 0) + limited.length).toBe(500);
    expect(by['200']).toBeGreaterThanOrEqual(85);
    expect(by['200']).toBeLessThanOrEqual(115);
    expect(limited.every((s) => s.retryAfter === '1')).toBe(true);
    const stats = await server.stats('ratelimit');
    console.log(`[ratelimit] server stats: ${JSON.stringify(Object.fromEntries([...stats].filter(([k]) => k.includes('GET_api'))))}`);
    const rateLimited = [...stats].filter(([k]) => k.endsWith('GET_api.http_local_rate_limit.rate_limited')).map(([, v]) => v);
    expect(rateLimited).toEqual([limited.length]);
  });

  it('requests no rule matches are not limited', async () => {
    const seen = await batch(200, 16, () => a.send('http://inventory.shop:8080/other'));
    expect(countBy(seen)).toEqual({ '200': 200 });
  });

  it('perCaller: each caller identity has its own bucket', { timeout: 30_000 }, async () => {
    const fromA = await batch(12, 4, () => a.send('http://inventory.shop:8080/orders', { method: 'POST' }));
    const fromB = await batch(12, 4, () => b.send('http://inventory.shop:8080/orders', { method: 'POST' }));
    console.log(`[ratelimit] perCaller 5/min: client-a ${JSON.stringify(countBy(fromA))}, client-b ${JSON.stringify(countBy(fromB))}`);
    expect(countBy(fromA)).toEqual({ '200': 5, '429': 7 });
    expect(countBy(fromB)).toEqual({ '200': 5, '429': 7 });
  });
});

describe('FaultPolicy on the caller side', () => {
  it('abort 50 %: 50 ± 5 % of 2000 requests get the configured status', { timeout: 60_000 }, async () => {
    const seen = await batch(2000, 16, () => a.send('http://catalog.shop:8080/'));
    const by = countBy(seen);
    const pct = (100 * (by['418'] ?? 0)) / seen.length;
    console.log(`[fault] abort 50 %: ${JSON.stringify(by)} → ${pct.toFixed(1)} % aborted`);
    expect((by['418'] ?? 0) + (by['200'] ?? 0)).toBe(2000);
    expect(pct).toBeGreaterThanOrEqual(45);
    expect(pct).toBeLessThanOrEqual(55);
  });

  it('a 200 ms delay applies to header-matched requests only', { timeout: 60_000 }, async () => {
    const median = (xs: Seen[]) => [...xs.map((s) => s.ms)].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
    await batch(8, 4, () => a.send('http://reviews.shop:8080/')); // warm the connections
    const plain = await batch(40, 4, () => a.send('http://reviews.shop:8080/'));
    const chaos = await batch(40, 4, () => a.send('http://reviews.shop:8080/', { headers: { 'x-chaos': 'inject' } }));
    const other = await batch(40, 4, () => a.send('http://reviews.shop:8080/', { headers: { 'x-chaos': 'other' } }));
    const min = (xs: Seen[]) => Math.min(...xs.map((s) => s.ms));
    console.log(
      `[fault] delay 200 ms: matched min ${min(chaos).toFixed(0)} ms / median ${median(chaos).toFixed(0)} ms; unmatched median ${median(plain).toFixed(0)} ms, other value ${median(other).toFixed(0)} ms`,
    );
    expect(countBy([...plain, ...chaos, ...other])).toEqual({ '200': 120 });
    // Envoy arms its timers at millisecond granularity and may fire up to ~1-2 ms early.
    expect(min(chaos)).toBeGreaterThanOrEqual(195);
    expect(median(chaos)).toBeGreaterThanOrEqual(200);
    expect(median(plain)).toBeLessThan(100);
    expect(median(other)).toBeLessThan(100);
  });

  it('gRPC abort: a gRPC client sees the configured status', { timeout: 30_000 }, async () => {
    const grpc = await import('@grpc/grpc-js');
    const client = new grpc.Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'grpc-echo.shop:8080' });
    const code = await new Promise<number>((resolve) => {
      client.makeUnaryRequest(
        '/weft.test.Echo/Say',
        (x: Buffer) => x,
        (x: Buffer) => x,
        Buffer.from(''),
        (err) => resolve(err?.code ?? 0),
      );
    });
    client.close();
    console.log(`[fault] gRPC abort: status ${code} (${grpc.status[code]})`);
    expect(code).toBe(grpc.status.UNAVAILABLE);
  });

  it('the caller counts the faults it injected', async () => {
    const stats = await clientA.stats('fault');
    const aborts = [...stats].filter(([k]) => k.endsWith('fault.aborts_injected')).reduce((s, [, v]) => s + v, 0);
    const delays = [...stats].filter(([k]) => k.endsWith('fault.delays_injected')).reduce((s, [, v]) => s + v, 0);
    console.log(`[fault] client-a stats: ${JSON.stringify(Object.fromEntries([...stats].filter(([k]) => /injected/.test(k))))}`);
    expect(aborts).toBeGreaterThan(900);
    expect(delays).toBe(40);
    expect(aborts).toBeLessThan(1100);
  });
});
