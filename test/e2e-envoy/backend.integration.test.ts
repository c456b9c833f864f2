// BackendPolicy end to end: weft serve on a private config directory, a real Envoy as the
// caller, real HTTP servers as the endpoints of reviews.shop:8080. Each case sets the policy,
// waits until Envoy has it (config dump / admin /clusters), then measures what traffic did.
import { afterAll, describe, expect, it } from 'vitest';
import { rejectedUpdates } from '../support/envoy-routes.ts';
import { clusterHosts, eventually, load, REVIEWS_CLUSTER, startLbMesh, startLbServer, type LbMesh } from '../support/lb-mesh.ts';

type Json = Record<string, unknown>;
const meshes: LbMesh[] = [];
afterAll(async () => {
  for (const m of meshes) {
    const rejected = await rejectedUpdates(m.envoy);
    expect(Object.fromEntries([...rejected].filter(([, v]) => v !== 0)), 'Envoy rejected no update').toEqual({});
    await m.stop();
  }
});

async function mesh(...args: Parameters<typeof startLbMesh>): Promise<LbMesh> {
  const m = await startLbMesh(...args);
  meshes.push(m);
  return m;
}

/** The reviews cluster as Envoy runs it (lb_policy, circuit_breakers), from the config dump. */
async function activeCluster(m: LbMesh): Promise<Json | undefined> {
  const dump = (await m.envoy.configDump()) as { configs?: Json[] };
  for (const section of dump.configs ?? []) {
    for (const c of (section.dynamic_active_clusters as Json[] | undefined) ?? []) {
      const cluster = c.cluster as Json | undefined;
      if (cluster?.name === REVIEWS_CLUSTER) return cluster;
    }
  }
  return undefined;
}

const count = (names: string[]) => names.reduce<Record<string, number>>((acc, n) => ({ ...acc, [n]: (acc[n] ?? 0) + 1 }), {});

describe('BackendPolicy through a real Envoy', () => {
  it('LeastRequest sends fewer requests to a backend 10× slower than its peers', { timeout: 120_000 }, async () => {
    const servers = [
      await startLbServer('fast-1', { delayMs: 20 }),
      await startLbServer('fast-2', { delayMs: 20 }),
      await startLbServer('slow', { delayMs: 200 }),
    ];
    const m = await mesh({ servers, policy: '  loadBalancer: {algorithm: RoundRobin}\n' });
    const measure = async (label: string) => {
      m.resetCounts();
      const replies = await load(m.outboundPort, 600, 12);
      expect(replies.every((r) => r.status === 200)).toBe(true);
      const by = count(replies.map((r) => r.backend));
      console.log(`[backend] ${label}: ${JSON.stringify(by)} of 600 (12 in flight)`);
      return by;
    };
    await eventually('RoundRobin applied', async () => (await activeCluster(m))?.lb_policy === undefined);
    const rr = await measure('RoundRobin');
    await m.setPolicy('  loadBalancer: {algorithm: LeastRequest}\n');
    await eventually('LeastRequest applied', async () => (await activeCluster(m))?.lb_policy === 'LEAST_REQUEST');
    const lr = await measure('LeastRequest');
    // Round robin gives each a third whatever its speed; least request sends the slow one clearly
    // fewer than either peer (bounds loose enough for 2 contended cores: typically ~110 vs ~245).
    expect(rr.slow ?? 0).toBeGreaterThan(150);
    expect(lr.slow ?? 0).toBeLessThan(0.75 * Math.min(lr['fast-1'] ?? 0, lr['fast-2'] ?? 0));
    expect(lr.slow ?? 0).toBeLessThan(0.75 * (rr.slow ?? 0));
  });

  it('RingHash on a header keeps each header value on one endpoint across 1000 requests', { timeout: 120_000 }, async () => {
    const servers = await Promise.all(['h1', 'h2', 'h3', 'h4'].map((n) => startLbServer(n)));
    const m = await mesh({ servers, policy: '  loadBalancer: {algorithm: RingHash, hashKey: {header: x-user}}\n' });
    await eventually('RingHash applied', async () => (await activeCluster(m))?.lb_policy === 'RING_HASH');
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    const replies = await load(m.outboundPort, 1000, 8, (i) => ({ 'x-user': users[i % users.length] ?? '' }));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    const backendsOf = new Map<string, Set<string>>();
    for (const r of replies) {
      const user = users[r.index % users.length] ?? '';
      backendsOf.set(user, (backendsOf.get(user) ?? new Set()).add(r.backend));
    }
    const sticky = [...backendsOf.values()].filter((s) => s.size === 1).length;
    const used = new Set(replies.map((r) => r.backend));
    console.log(`[backend] RingHash: ${sticky}/${users.length} header values each on one endpoint; endpoints used ${[...used].sort().join(', ')}`);
    expect(sticky).toBe(users.length);
    expect(used.size).toBeGreaterThan(1); // the keys spread; each key stays put
  });

  it('zone failover: the local zone while it has ready endpoints, then another zone', { timeout: 120_000 }, async () => {
    const a1 = await startLbServer('a1', { zone: 'zone-a' });
    const a2 = await startLbServer('a2', { zone: 'zone-a' });
    const b1 = await startLbServer('b1', { zone: 'zone-b' });
    const c1 = await startLbServer('c1', { zone: 'zone-c' });
    const m = await mesh({ servers: [a1, a2, b1, c1], policy: '  locality: {mode: Failover}\n', zone: 'zone-a' });
    await eventually(
      'zone-a at priority 0',
      async () =>
        JSON.stringify(await clusterHosts(m.envoy)) ===
        JSON.stringify({ 0: [a1.port, a2.port].sort((x, y) => x - y), 1: [b1.port, c1.port].sort((x, y) => x - y) }),
    );
    const local = count((await load(m.outboundPort, 200, 4)).map((r) => r.backend));
    console.log(`[backend] zone-a caller, zone-a ready: ${JSON.stringify(local)}`);
    expect(Object.keys(local).sort()).toEqual(['a1', 'a2']);

    await m.setReady(a1, false);
    await m.setReady(a2, false);
    await eventually(
      'zone-a gone from the cluster',
      async () => JSON.stringify(await clusterHosts(m.envoy)) === JSON.stringify({ 0: [b1.port, c1.port].sort((x, y) => x - y) }),
    );
    const failover = await load(m.outboundPort, 200, 4);
    const remote = count(failover.map((r) => r.backend));
    console.log(`[backend] zone-a caller, zone-a unready: ${JSON.stringify(remote)}`);
    expect(failover.every((r) => r.status === 200)).toBe(true);
    expect(Object.keys(remote).sort()).toEqual(['b1', 'c1']);

    await m.setReady(a1, true);
    await eventually('zone-a back at priority 0', async () => (await clusterHosts(m.envoy))[0]?.includes(a1.port) === true);
    const back = count((await load(m.outboundPort, 100, 4)).map((r) => r.backend));
    console.log(`[backend] zone-a caller, a1 ready again: ${JSON.stringify(back)}`);
    expect(back).toEqual({ a1: 100 });
  });

  // Which counter a refusal lands in depends on the limit that refused it (docs/backend-policy.md):
  // max_requests → upstream_rq_active_overflow, max_pending_requests → upstream_rq_pending_overflow,
  // max_connections → upstream_cx_overflow (the request then waits as pending).
  it('a pool limit of 2 concurrent requests under 10 concurrent callers: overflow 503s, counted', { timeout: 120_000 }, async () => {
    const servers = [await startLbServer('p1', { delayMs: 200 }), await startLbServer('p2', { delayMs: 200 })];
    const m = await mesh({ servers, policy: '  connectionPool: {maxRequests: 2}\n' });
    const stat = (name: string) => `cluster.${REVIEWS_CLUSTER}.${name}`;
    const counters = async () => m.envoy.stats('reviews.*(overflow|upstream_rq_503)$');
    const threshold = async () => ((await activeCluster(m))?.circuit_breakers as { thresholds?: Json[] } | undefined)?.thresholds?.[0];
    const run = async (label: string) => {
      m.resetCounts();
      const before = await counters();
      const replies = await load(m.outboundPort, 100, 10);
      const after = await counters();
      const delta = (name: string) => (after.get(stat(name)) ?? 0) - (before.get(stat(name)) ?? 0);
      const statuses = count(replies.map((r) => String(r.status)));
      const overloaded = replies.filter((r) => r.status === 503 && r.overloaded).length;
      const inFlight = servers.reduce((a, s) => a + s.maxInFlight, 0);
      const figures = {
        active: delta('upstream_rq_active_overflow'),
        pending: delta('upstream_rq_pending_overflow'),
        cx: delta('upstream_cx_overflow'),
      };
      console.log(
        `[backend] ${label}, 10 callers, 100 requests of 200 ms: statuses ${JSON.stringify(statuses)}, ${overloaded} with x-envoy-overloaded, ` +
          `overflow counters +${JSON.stringify(figures)}, most in flight at the backends ${inFlight}`,
      );
      expect(statuses['503'] ?? 0).toBeGreaterThan(0);
      expect(statuses['200'] ?? 0).toBeGreaterThan(0);
      expect(overloaded).toBe(statuses['503']);
      expect(inFlight).toBeLessThanOrEqual(2 * servers.length);
      return { statuses, ...figures };
    };
    await eventually('maxRequests applied', async () => (await threshold())?.max_requests === 2);
    const active = await run('maxRequests 2');
    expect(active.active).toBe(active.statuses['503']);

    await m.setPolicy('  connectionPool: {maxConnections: 2, maxPendingRequests: 1}\n');
    await eventually('maxConnections applied', async () => (await threshold())?.max_connections === 2);
    const pending = await run('maxConnections 2, maxPendingRequests 1');
    expect(pending.pending).toBe(pending.statuses['503']);
    expect(pending.cx).toBeGreaterThan(0);
  });
});
