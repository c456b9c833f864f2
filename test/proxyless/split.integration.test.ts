// Proxyless gRPC end to end: a real @grpc/grpc-js-xds client (its own process, its own
// bootstrap) takes listeners, routes, clusters and endpoints from `weft serve` and splits
// its calls 80/20 between two real gRPC servers, as the TrafficSplit says; an edit of the
// split reaches the running client. No update may be NACKed on the way.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGreeter, type Greeter } from '../../examples/proxyless/greeter.ts';
import { sharePercent, type CallProgress } from '../../examples/proxyless/output.ts';
import type { ProxyDebug } from '../../xds/server/debug.ts';
import { startWeftServe, type WeftServe } from '../support/weft-serve.ts';
import { proxiesOf, proxylessMesh, runProxylessClient, type ProxylessMesh } from './support.ts';

const CALLS = 2000;
const ROUTE_TYPE = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
const XDS_TYPES = ['Cluster', 'ClusterLoadAssignment', 'Listener', 'RouteConfiguration'];

let v1: Greeter;
let v2: Greeter;
let mesh: ProxylessMesh;
let weft: WeftServe;

beforeAll(async () => {
  [v1, v2] = await Promise.all([startGreeter('greeter-v1'), startGreeter('greeter-v2')]);
  mesh = await proxylessMesh({ v1: v1.port, v2: v2.port });
  weft = await startWeftServe({ configDir: mesh.dir });
});
afterAll(async () => {
  await weft?.stop();
  await Promise.all([v1?.stop(), v2?.stop()]);
});

/** Polls /debug/proxies until `pick` returns a value (or throws after `timeoutMs`). */
async function waitForProxy<T>(id: string, pick: (p: ProxyDebug) => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: ProxyDebug | undefined;
  while (Date.now() < deadline) {
    last = (await proxiesOf(weft.monitoringUrl)).find((p) => p.id === id);
    const v = last && pick(last);
    if (v !== undefined) return v;
    await sleep(20);
  }
  throw new Error(`proxy ${id}: condition not met in ${timeoutMs} ms; last seen ${JSON.stringify(last)}`);
}

function nacks(p: ProxyDebug): string[] {
  return Object.entries(p.types).flatMap(([t, d]) => (d.lastNack ? [`${t}: ${d.lastNack.message}`] : []));
}

/** The proxy has ACKed what it was sent for all four types. */
function allAcked(p: ProxyDebug): true | undefined {
  const types = Object.entries(p.types);
  const complete = XDS_TYPES.every((short) => types.some(([t, d]) => t.endsWith(`.${short}`) && d.versionSent !== '' && d.versionAcked === d.versionSent));
  return complete ? true : undefined;
}

describe('proxyless gRPC (grpc-js-xds) against weft serve', () => {
  it(`splits ${CALLS} calls 80/20 within ±4 points, with every type ACKed and nothing NACKed`, { timeout: 90_000 }, async () => {
    const run = runProxylessClient({ xdsAddress: weft.xdsAddress, nodeId: 'proxyless-split', args: ['--calls', String(CALLS), '--report-every', '100'] });
    // While the client runs: it is identified as proxyless in shop and ACKs every type.
    const seen = waitForProxy('proxyless-split', (p) => (allAcked(p) ? p : undefined)).catch((err: unknown) => err as Error);
    const r = await run.summary;
    const v2Share = sharePercent(r, 'greeter-v2');
    console.log(
      `[proxyless] ${r.ok}/${r.calls} ok via ${r.target}: greeter-v1 ${sharePercent(r, 'greeter-v1').toFixed(1)}%, ` +
        `greeter-v2 ${v2Share.toFixed(1)}% (first call after ${r.firstOkMs} ms, all in ${r.elapsedMs} ms)`,
    );
    expect(r.errorSamples).toEqual([]);
    expect(r.ok).toBe(CALLS);
    expect(Object.keys(r.byBackend).sort()).toEqual(['greeter-v1', 'greeter-v2']);
    expect(v2Share).toBeGreaterThanOrEqual(16);
    expect(v2Share).toBeLessThanOrEqual(24);
    expect(v1.calls + v2.calls).toBeGreaterThanOrEqual(CALLS);

    const proxy = await seen;
    if (proxy instanceof Error) throw proxy;
    expect(proxy).toMatchObject({ kind: 'proxyless', namespace: 'shop', protocol: 'sotw' });
    expect(nacks(proxy)).toEqual([]);
    // grpc-js-xds asks for the listener named by the target's authority, and the route config it names.
    expect(proxy.types['type.googleapis.com/envoy.config.listener.v3.Listener']?.subscribed).toEqual(['greeter.shop:50051']);
    expect(proxy.types[ROUTE_TYPE]?.subscribed).toEqual(['greeter.shop.svc.cluster.local:50051']);
  });

  it('follows an edit of the split to 50/50 while calling', { timeout: 90_000 }, async () => {
    const id = 'proxyless-follow';
    const run = runProxylessClient({
      xdsAddress: weft.xdsAddress,
      nodeId: id,
      args: ['--calls', '5000', '--rate', '600', '--report-every', '100'],
    });
    const progress: CallProgress[] = [];
    run.onProgress((p) => progress.push(p));
    const before = await waitForProxy(id, (p) => (allAcked(p) ? p.types[ROUTE_TYPE]?.versionAcked : undefined));
    while (progress.length < 5) await sleep(20); // some calls under 80/20 first

    const text = await mesh.read();
    const edited = text.replace(/weight: 80\b/, 'weight: 50').replace(/weight: 20\b/, 'weight: 50');
    expect(edited).not.toBe(text);
    const written = performance.now();
    await mesh.write(edited);
    await waitForProxy(id, (p) => {
      const rds = p.types[ROUTE_TYPE];
      return rds && rds.versionAcked !== before && rds.versionAcked === rds.versionSent ? true : undefined;
    });
    const ackMs = performance.now() - written;
    const atAck = progress.length;
    // Counts from the first report after the ACK on: every call they cover ran under the new routes.
    while (progress.length === atAck) await sleep(10);
    const from = progress[progress.length - 1]!;
    const r = await run.summary;
    const after = { ok: r.ok - from.ok, byBackend: Object.fromEntries(Object.entries(r.byBackend).map(([b, n]) => [b, n - (from.byBackend[b] ?? 0)])) };
    const v2Share = sharePercent(after, 'greeter-v2');
    console.log(
      `[proxyless] file write -> client ACKed the new routes: ${Math.round(ackMs)} ms; after it: greeter-v2 ${v2Share.toFixed(1)}% of ${after.ok} calls`,
    );
    expect(r.errorSamples).toEqual([]);
    expect(after.ok).toBeGreaterThanOrEqual(2000); // ±4 points is then ≥ 3.5 σ of a fair 50/50
    expect(v2Share).toBeGreaterThanOrEqual(46);
    expect(v2Share).toBeLessThanOrEqual(54);
    const proxies = await proxiesOf(weft.monitoringUrl);
    expect(proxies.flatMap(nacks)).toEqual([]);
  });
});
