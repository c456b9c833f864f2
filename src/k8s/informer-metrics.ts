// The Prometheus series of the supervised informers (informer.ts), by resource.
import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../base/metrics.ts';

export const informerRestarts = new Counter({
  name: 'weft_informer_restarts_total',
  help: 'Informer list/watch restarts, by resource and reason (gone, stalled, forbidden, not_found, network, ...).',
  labelNames: ['resource', 'reason'] as const,
  registers: [metricsRegistry],
});
export const informerObjects = new Gauge({
  name: 'weft_informer_objects',
  help: 'Objects held by each informer.',
  labelNames: ['resource'] as const,
  registers: [metricsRegistry],
});
export const informerSynced = new Gauge({
  name: 'weft_informer_synced',
  help: '1 once the informer has completed its first list.',
  labelNames: ['resource'] as const,
  registers: [metricsRegistry],
});

interface LiveInformer {
  readonly name: string;
  status(): { readonly lastEventAgeSeconds?: number };
}

/** Informers between start() and stop(): the age gauge reads them at scrape time. */
export const liveInformers = new Set<LiveInformer>();

new Gauge({
  name: 'weft_informer_last_event_age_seconds',
  help: 'Seconds since the informer last heard from the API server (list, event or bookmark).',
  labelNames: ['resource'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    for (const inf of liveInformers) {
      const age = inf.status().lastEventAgeSeconds;
      if (age !== undefined) this.set({ resource: inf.name }, age);
    }
  },
});
