// The scraper's bounds, against real HTTP servers on loopback: at most `concurrency` scrapes in
// flight, a proxy that never answers is cut off at `timeoutMs` (and reported, not waited for),
// an oversized answer is refused, proxies that left are forgotten, and nothing is scraped once
// nobody has read the view for `idleAfterMs`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { StatsScraper } from '../../src/runtime/meshview/scraper.ts';
import { log } from '../../src/base/log.ts';

const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

const until = async (ok: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

const STATS = 'envoy_cluster_upstream_rq_total{envoy_cluster_name="outbound|80||a.ns.svc.cluster.local"} 10\n';

describe('StatsScraper bounds', () => {
  it('keeps at most `concurrency` scrapes in flight and cuts off a proxy that never answers', async () => {
    let inFlight = 0;
    let peak = 0;
    const slow = await serve((_req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      setTimeout(() => {
        inFlight--;
        res.end(STATS);
      }, 50);
    });
    const silent = await serve(() => {}); // accepts, never answers
    const targets = [...Array.from({ length: 12 }, (_, i) => ({ key: `s${i}`, url: `${slow}/stats?${i}` })), { key: 'silent', url: silent }];
    const s = new StatsScraper({ targets: () => targets, intervalMs: 5000, timeoutMs: 300, concurrency: 3, log });
    const t0 = performance.now();
    s.touch();
    await until(() => s.lastRound() !== undefined);
    const took = performance.now() - t0;
    s.close();
    expect(peak).toBeLessThanOrEqual(3);
    expect(s.results().get('silent')).toMatchObject({ state: 'error' });
    expect(s.results().get('s0')).toMatchObject({ state: 'ok' });
    expect(s.lastRound()).toMatchObject({ targets: 13, failed: 1 });
    // 12 × 50 ms over 3 lanes, plus one 300 ms timeout in a lane of its own: well under a second.
    expect(took).toBeLessThan(2000);
  });

  it('refuses an answer over maxBytes', async () => {
    const big = await serve((_req, res) => res.end('#'.repeat(100_000)));
    const s = new StatsScraper({ targets: () => [{ key: 'big', url: big }], intervalMs: 5000, timeoutMs: 1000, concurrency: 1, maxBytes: 10_000, log });
    s.touch();
    await until(() => s.lastRound() !== undefined);
    s.close();
    expect(s.results().get('big')?.error).toMatch(/over 10000 bytes/);
  });

  it('forgets proxies that left, and stops scraping when nobody watches', async () => {
    let hits = 0;
    const ok = await serve((_req, res) => {
      hits++;
      res.end(STATS);
    });
    let targets = [
      { key: 'a', url: ok },
      { key: 'b', url: ok },
    ];
    const s = new StatsScraper({ targets: () => targets, intervalMs: 100, timeoutMs: 100, concurrency: 2, idleAfterMs: 400, log });
    s.touch();
    await until(() => s.results().get('a')?.deltas !== undefined);
    targets = [{ key: 'a', url: ok }];
    await until(() => !s.results().has('b'));
    // Not touched again: after idleAfterMs the loop stops and forgets its readings.
    await until(() => s.lastRound() === undefined, 3000);
    const after = hits;
    await new Promise((r) => setTimeout(r, 400));
    expect(hits).toBe(after);
    expect(s.results().size).toBe(0);
    s.touch(); // and starts again when someone looks
    await until(() => hits > after);
    s.close();
  });
});
