// Scrapes the connected proxies' Envoy stats for the mesh view, bounded on every side: one
// round at a time, every `intervalMs`, at most `concurrency` requests in flight, each ended
// after `timeoutMs` or `maxBytes`, at most `maxTargets` proxies per round. It runs only while
// someone watches (the API was read within `idleAfterMs`), so a controller nobody looks at
// scrapes nothing. Everything is asynchronous I/O plus a small parse per proxy: the xDS server
// shares the event loop and never waits on a scrape.
import { systemClock, type Clock, type Timer } from '../../base/clock.ts';
import { errorMessage } from '../../base/errors.ts';
import type { Logger } from '../../base/log.ts';
import { deltaOf, type Delta } from './edge-stats.ts';
import { meshViewMetrics } from './metrics.ts';
import { parseClusterStats, type ClusterStats } from './prom-text.ts';

export interface ScrapeTarget {
  /** Stable while the proxy stays connected (its stream id). */
  readonly key: string;
  readonly url: string;
}

export interface ScraperOptions {
  readonly targets: () => readonly ScrapeTarget[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly maxTargets?: number;
  readonly maxBytes?: number;
  readonly idleAfterMs?: number;
  readonly keep?: (cluster: string) => boolean;
  readonly clock?: Clock;
  readonly log: Logger;
}

export interface TargetResult {
  readonly state: 'ok' | 'error';
  readonly error?: string;
  /** Wall time of the last attempt. */
  readonly at: string;
  /** Per cluster, what happened between the last two good readings (absent after the first). */
  readonly deltas?: ReadonlyMap<string, Delta>;
}

interface Reading {
  readonly monotonic: number;
  readonly stats: ClusterStats;
}

export const DEFAULT_SCRAPE = { intervalMs: 5000, timeoutMs: 2000, concurrency: 8, maxTargets: 2000, maxBytes: 4 * 1024 * 1024, idleAfterMs: 60_000 };

async function readCapped(res: Response, maxBytes: number): Promise<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`stats over ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class StatsScraper {
  readonly #o: Required<Omit<ScraperOptions, 'keep'>> & Pick<ScraperOptions, 'keep'>;
  readonly #readings = new Map<string, Reading>();
  readonly #results = new Map<string, TargetResult>();
  #lastTouch = -Infinity;
  #timer: Timer | undefined;
  #running = false;
  #closed = false;
  #lastRound: { at: string; windowSeconds: number | null; targets: number; failed: number } | undefined;

  constructor(opts: ScraperOptions) {
    this.#o = { ...DEFAULT_SCRAPE, clock: systemClock, ...opts };
  }

  /** Someone is watching: start scraping if idle (the first round runs now). */
  touch(): void {
    this.#lastTouch = this.#o.clock.monotonic();
    if (!this.#running && !this.#closed) {
      this.#running = true;
      void this.#round();
    }
  }

  results(): ReadonlyMap<string, TargetResult> {
    return this.#results;
  }

  lastRound(): { at: string; windowSeconds: number | null; targets: number; failed: number } | undefined {
    return this.#lastRound;
  }

  get intervalMs(): number {
    return this.#o.intervalMs;
  }

  close(): void {
    this.#closed = true;
    this.#o.clock.clearTimeout(this.#timer);
  }

  async #round(): Promise<void> {
    const { clock } = this.#o;
    const started = clock.monotonic();
    const targets = this.#o.targets().slice(0, this.#o.maxTargets);
    const live = new Set(targets.map((t) => t.key));
    for (const key of [...this.#readings.keys()]) if (!live.has(key)) this.#readings.delete(key);
    for (const key of [...this.#results.keys()]) if (!live.has(key)) this.#results.delete(key);
    let next = 0;
    let failed = 0;
    const windows: number[] = [];
    const worker = async (): Promise<void> => {
      while (next < targets.length && !this.#closed) {
        const t = targets[next++]!;
        const r = await this.#scrape(t);
        if (r.state === 'error') failed++;
        else if (r.window !== undefined) windows.push(r.window);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.concurrency, targets.length) }, worker));
    if (this.#closed) return;
    meshViewMetrics.roundSeconds.observe((clock.monotonic() - started) / 1000);
    this.#lastRound = {
      at: new Date(clock.now()).toISOString(),
      windowSeconds: windows.length > 0 ? Math.max(...windows) : null,
      targets: targets.length,
      failed,
    };
    if (clock.monotonic() - this.#lastTouch > this.#o.idleAfterMs) {
      // Nobody watched for a while: stop, and forget readings so the next rates start fresh.
      this.#running = false;
      this.#readings.clear();
      this.#results.clear();
      this.#lastRound = undefined;
      return;
    }
    const wait = Math.max(100, this.#o.intervalMs - (clock.monotonic() - started));
    this.#timer = clock.setTimeout(() => void this.#round(), wait);
  }

  async #scrape(t: ScrapeTarget): Promise<{ state: 'ok' | 'error'; window?: number }> {
    const { clock } = this.#o;
    const at = new Date(clock.now()).toISOString();
    try {
      const res = await fetch(t.url, { signal: AbortSignal.timeout(this.#o.timeoutMs), redirect: 'error' });
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`HTTP ${res.status}`);
      }
      const text = await readCapped(res, this.#o.maxBytes);
      const now = clock.monotonic();
      const stats = parseClusterStats(text, this.#o.keep);
      const prev = this.#readings.get(t.key);
      this.#readings.set(t.key, { monotonic: now, stats });
      if (prev === undefined) {
        meshViewMetrics.scrapes.inc({ result: 'ok' });
        this.#results.set(t.key, { state: 'ok', at });
        return { state: 'ok' };
      }
      const seconds = (now - prev.monotonic) / 1000;
      const deltas = new Map<string, Delta>();
      const earlier = this.#results.get(t.key)?.deltas;
      for (const [cluster, cur] of stats) {
        const d = deltaOf(prev.stats.get(cluster), cur, seconds);
        if (d === undefined) continue;
        // Envoy publishes histograms at its stats flush (every 5 s), counters at once: a scrape
        // interval without a flush keeps the latency of the last one that had observations.
        const last = earlier?.get(cluster);
        if (d.requests > 0 && !d.buckets.some(([, n]) => n > 0) && last !== undefined) d.buckets = last.buckets;
        deltas.set(cluster, d);
      }
      this.#results.set(t.key, { state: 'ok', at, deltas });
      meshViewMetrics.scrapes.inc({ result: 'ok' });
      return { state: 'ok', window: seconds };
    } catch (err) {
      const error = errorMessage(err);
      this.#o.log.debug({ target: t.url, err: error }, 'mesh view: stats scrape failed');
      this.#results.set(t.key, { state: 'error', at, error });
      meshViewMetrics.scrapes.inc({ result: 'error' });
      return { state: 'error' };
    }
  }
}
