// ADS server metrics. Type labels use short names (cds, eds, lds, rds, sds) to keep series readable.
import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '../../src/base/metrics.ts';
import { resourceType, resourceTypes } from '../resources/type-urls.ts';

/** Metric label for a type URL; unknown types collapse into one label value. */
export function typeLabel(typeUrl: string): string {
  return resourceType(typeUrl)?.label ?? 'other';
}

export const adsMetrics = {
  connectedProxies: new Gauge({
    name: 'weft_xds_connected_proxies',
    help: 'Proxies with an open, identified xDS stream.',
    labelNames: ['kind'] as const,
    registers: [metricsRegistry],
  }),
  streamsOpened: new Counter({
    name: 'weft_xds_streams_opened_total',
    help: 'xDS streams opened.',
    labelNames: ['protocol'] as const,
    registers: [metricsRegistry],
  }),
  streamsClosed: new Counter({
    name: 'weft_xds_streams_closed_total',
    help: 'xDS streams closed, by reason (client_end, cancelled, error, rejected, server_close).',
    labelNames: ['protocol', 'reason'] as const,
    registers: [metricsRegistry],
  }),
  pushes: new Counter({
    name: 'weft_xds_pushes_total',
    help: 'Discovery responses sent.',
    labelNames: ['type'] as const,
    registers: [metricsRegistry],
  }),
  acks: new Counter({
    name: 'weft_xds_acks_total',
    help: 'Responses the proxy accepted.',
    labelNames: ['type'] as const,
    registers: [metricsRegistry],
  }),
  nacks: new Counter({
    name: 'weft_xds_nacks_total',
    help: 'Responses the proxy rejected (the last good config keeps serving there).',
    labelNames: ['type'] as const,
    registers: [metricsRegistry],
  }),
  pushAckSeconds: new Histogram({
    name: 'weft_xds_push_ack_seconds',
    help: 'Time from sending a response to its ACK or NACK.',
    labelNames: ['type'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [metricsRegistry],
  }),
  changeAckSeconds: new Histogram({
    name: 'weft_xds_change_ack_seconds',
    help: "Time from a proxy's configuration changing on the server to its last answer (ACK or NACK) for every type the change pushed.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [metricsRegistry],
  }),
  flushSeconds: new Histogram({
    name: 'weft_xds_flush_seconds',
    help: 'Time to push one model change to every connected stream.',
    buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [metricsRegistry],
  }),
};

// Series exist from the start, so a dashboard shows 0 rather than "no data" until the first NACK.
for (const t of resourceTypes) {
  adsMetrics.acks.inc({ type: t.label }, 0);
  adsMetrics.nacks.inc({ type: t.label }, 0);
}
