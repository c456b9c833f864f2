// The mesh view's live state: the connected proxies (from the ADS server), their scraped
// stats, the model and certificate expiry, assembled on request. Reading it marks the view as
// watched, which keeps the (bounded) scraper running.
import { isIP } from 'node:net';
import type { Logger } from '../../base/log.ts';
import { MeshPorts } from '../../base/mesh-ports.ts';
import type { MeshModel } from '../../model/types.ts';
import type { StreamDebug } from '../../../xds/server/stream-debug.ts';
import { buildMeshView, type CertificateInfo } from './graph.ts';
import { DEFAULT_SCRAPE, StatsScraper } from './scraper.ts';
import type { MeshView } from './shape.ts';

export interface ScrapeSettings {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly concurrency: number;
}

export interface MeshViewSourceOptions {
  readonly streams: () => readonly StreamDebug[];
  readonly model: () => MeshModel | undefined;
  readonly certificates?: () => readonly CertificateInfo[];
  readonly scrape?: Partial<ScrapeSettings>;
  readonly log: Logger;
}

// Only the outbound clusters are edges; `usedonly` drops clusters that never sent a request.
const STATS_QUERY = `usedonly&filter=${encodeURIComponent('^cluster\\.outbound\\|')}`;

/**
 * Where a proxy's stats are: its own address (the xDS connection's peer, so a proxy can point
 * the scraper at nothing but itself) on the port it announced, else MeshPorts.stats for a
 * captured sidecar (the injected bootstrap's stats listener). undefined: not scraped.
 */
export function statsUrl(s: Pick<StreamDebug, 'peer' | 'proxy'>): string | undefined {
  if (s.proxy.kind !== 'sidecar' || s.peer === undefined) return undefined;
  const port = s.proxy.statsPort ?? (s.proxy.capture ? MeshPorts.stats : undefined);
  if (port === undefined) return undefined;
  const colon = s.peer.lastIndexOf(':');
  let host = colon > 0 ? s.peer.slice(0, colon) : s.peer;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.startsWith('::ffff:') && isIP(host.slice(7)) === 4) host = host.slice(7);
  const family = isIP(host);
  if (family === 0) return undefined; // a unix socket or something else without an address
  return `http://${family === 6 ? `[${host}]` : host}:${port}/stats/prometheus?${STATS_QUERY}`;
}

export class MeshViewSource {
  readonly #o: MeshViewSourceOptions;
  readonly #scraper: StatsScraper;

  constructor(opts: MeshViewSourceOptions) {
    this.#o = opts;
    this.#scraper = new StatsScraper({
      ...DEFAULT_SCRAPE,
      ...opts.scrape,
      log: opts.log,
      keep: (cluster) => cluster.startsWith('outbound|'),
      targets: () =>
        opts.streams().flatMap((s) => {
          const url = statsUrl(s);
          return url === undefined ? [] : [{ key: s.stream, url }];
        }),
    });
  }

  current(now = Date.now()): MeshView {
    this.#scraper.touch();
    return buildMeshView({
      model: this.#o.model(),
      streams: this.#o.streams(),
      scrapes: this.#scraper.results(),
      round: this.#scraper.lastRound(),
      intervalMs: this.#scraper.intervalMs,
      certificates: this.#o.certificates?.() ?? [],
      now,
    });
  }

  close(): void {
    this.#scraper.close();
  }
}
