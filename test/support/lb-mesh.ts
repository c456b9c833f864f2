// A standalone mesh for BackendPolicy tests: one Service `reviews.shop:8080` whose endpoints
// are small HTTP servers on loopback (each its own EndpointSlice, so each has its own port
// and zone), `weft serve` on a private config directory, and a real Envoy as an explicit
// HTTP proxy in a given zone. The servers record who answered, how slowly, and the most
// requests they held at once; the policy file can be rewritten while everything runs.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { renderBootstrap } from '../../xds/bootstrap/bootstrap.ts';
import { startEnvoy, type EnvoyHandle } from './envoy.ts';
import { waitForRoute } from './envoy-routes.ts';
import { freePort } from './free-port.ts';
import { startWeftServe, type WeftServe } from './weft-serve.ts';

export const REVIEWS_HOST = 'reviews.shop:8080';
export const REVIEWS_CLUSTER = 'outbound|8080||reviews.shop.svc.cluster.local';

export interface LbServer {
  readonly name: string;
  readonly port: number;
  readonly zone?: string;
  /** Requests answered since the last reset. */
  requests: number;
  /** Most requests in flight at once since the last reset. */
  maxInFlight: number;
  delayMs: number;
  stop(): Promise<void>;
}

const cleanups = new Set<() => Promise<void>>();
afterAll(async () => {
  await Promise.all([...cleanups].map((c) => c().catch(() => {})));
});

export async function startLbServer(name: string, opts: { zone?: string; delayMs?: number } = {}): Promise<LbServer> {
  let inFlight = 0;
  const state = { requests: 0, maxInFlight: 0, delayMs: opts.delayMs ?? 0 };
  const server: Server = createServer((req, res) => {
    req.resume();
    inFlight += 1;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    const answer = () => {
      inFlight -= 1;
      state.requests += 1;
      res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name });
      res.end(`${name}\n`);
    };
    if (state.delayMs > 0) setTimeout(answer, state.delayMs);
    else answer();
  });
  server.keepAliveTimeout = 300_000;
  server.headersTimeout = 301_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = () =>
    new Promise<void>((resolve) => {
      cleanups.delete(stop);
      server.close(() => resolve());
      server.closeAllConnections();
    });
  cleanups.add(stop);
  return Object.assign(state, { name, port: (server.address() as AddressInfo).port, ...(opts.zone ? { zone: opts.zone } : {}), stop });
}

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  ports: [{name: http, port: 8080}]
`;

function sliceYaml(s: LbServer, ready: boolean): string {
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: reviews-${s.name}
  namespace: shop
  labels: {kubernetes.io/service-name: reviews}
addressType: IPv4
ports: [{name: http, port: ${s.port}}]
endpoints:
  - addresses: [127.0.0.1]
    conditions: {ready: ${ready}}${s.zone ? `\n    zone: ${s.zone}` : ''}
`;
}

export interface LbMesh {
  readonly servers: readonly LbServer[];
  readonly envoy: EnvoyHandle;
  readonly weft: WeftServe;
  readonly outboundPort: number;
  /** Replaces the BackendPolicy (spec YAML under `spec:`, indented two spaces); '' removes it. */
  setPolicy(spec: string): Promise<void>;
  setReady(server: LbServer, ready: boolean): Promise<void>;
  resetCounts(): void;
  stop(): Promise<void>;
}

export async function startLbMesh(opts: { servers: LbServer[]; policy: string; zone?: string }): Promise<LbMesh> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-lb-'));
  const undo: Array<() => Promise<void>> = [() => rm(dir, { recursive: true, force: true })];
  const stop = async () => {
    cleanups.delete(stop);
    for (const step of undo.splice(0).reverse()) await step().catch(() => {});
  };
  cleanups.add(stop);
  const policyFile = join(dir, 'backendpolicy.yaml');
  const setPolicy = async (spec: string) => {
    if (spec === '') return rm(policyFile, { force: true });
    const doc = `apiVersion: mesh.weft.dev/v1alpha1\nkind: BackendPolicy\nmetadata: {name: reviews, namespace: shop}\nspec:\n  targetRef: {kind: Service, name: reviews}\n${spec}`;
    await writeFile(policyFile, doc);
  };
  const setReady = (s: LbServer, ready: boolean) => writeFile(join(dir, `slice-${s.name}.yaml`), sliceYaml(s, ready));
  try {
    await writeFile(join(dir, 'service.yaml'), SERVICE);
    for (const s of opts.servers) await setReady(s, true);
    await setPolicy(opts.policy);
    const weft = await startWeftServe({ configDir: dir });
    undo.push(() => weft.stop());
    const outboundPort = await freePort();
    const envoy = await startEnvoy({
      bootstrapYaml: renderBootstrap({
        nodeId: `e2e-lb-${process.pid}`,
        namespace: 'shop',
        xdsAddress: weft.xdsAddress,
        outboundPort,
        adminPort: 0,
        ...(opts.zone ? { zone: opts.zone } : {}),
      }).yaml,
    });
    undo.push(() => envoy.stop());
    await waitForRoute(envoy, REVIEWS_HOST, (v) => v.clusters.length > 0);
    return {
      servers: opts.servers,
      envoy,
      weft,
      outboundPort,
      setPolicy,
      setReady,
      resetCounts: () => opts.servers.forEach((s) => Object.assign(s, { requests: 0, maxInFlight: 0 })),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface Reply {
  readonly status: number;
  readonly backend: string;
  readonly overloaded: boolean;
}

/** One GET of http://reviews.shop:8080/ through Envoy's explicit proxy listener. */
export function get(proxyPort: number, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: proxyPort, path: `http://${REVIEWS_HOST}/`, headers: { host: REVIEWS_HOST, ...headers }, agent: false, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, backend: String(res.headers['x-backend'] ?? ''), overloaded: res.headers['x-envoy-overloaded'] === 'true' }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** `total` requests, `concurrency` at a time; `headersFor(i)` gives request i's headers. */
export async function load(proxyPort: number, total: number, concurrency: number, headersFor: (i: number) => Record<string, string> = () => ({})) {
  const replies: (Reply & { index: number })[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      replies.push({ ...(await get(proxyPort, headersFor(i))), index: i });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return replies;
}

/** Backends Envoy's cluster has, by priority (from /clusters?format=json), e.g. {0: [port, …], 1: […]}. */
export async function clusterHosts(envoy: EnvoyHandle, cluster = REVIEWS_CLUSTER): Promise<Record<number, number[]>> {
  type Host = { address?: { socket_address?: { port_value?: number } }; priority?: number };
  const doc = JSON.parse(await envoy.admin('/clusters?format=json')) as { cluster_statuses?: { name: string; host_statuses?: Host[] }[] };
  const out: Record<number, number[]> = {};
  for (const h of doc.cluster_statuses?.find((c) => c.name === cluster)?.host_statuses ?? []) {
    const p = h.priority ?? 0;
    (out[p] ??= []).push(h.address?.socket_address?.port_value ?? 0);
  }
  for (const list of Object.values(out)) list.sort((a, b) => a - b);
  return out;
}

/** Polls `check` until it returns true (Envoy applied an update), or fails after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
