// ADS server metrics. Type labels use short names (cds, eds, lds, rds, sds) to keep series readable.
// Per-response and per-ACK counts are tallied in plain numbers and handed to prom-client when
// it is read (a scrape): a push to 10,000 streams then costs 10,000 additions, not 10,000
// label lookups. ACK latencies are observed in batches for the same reason (bounded: see ackLatency).
import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '../../src/base/metrics.ts';
import { resourceType, resourceTypes } from '../resources/type-urls.ts';

/** Metric label for a type URL; unknown types collapse into one label value. */
export function typeLabel(typeUrl: string): string {
  return resourceType(typeUrl)?.label ?? 'other';
}

type Tally = Map<string, number>;
const pushes: Tally = new Map();
const acks: Tally = new Map();
const nacks: Tally = new Map();

function drain(tally: Tally, counter: Counter<'type'>): void {
  for (const [type, n] of tally) counter.inc({ type }, n);
  tally.clear();
}

/** Counts one response sent / ACK / NACK of a type (by its metric label). */
export const tally = {
  push: (type: string): void => void pushes.set(type, (pushes.get(type) ?? 0) + 1),
  ack: (type: string): void => void acks.set(type, (acks.get(type) ?? 0) + 1),
  nack: (type: string): void => void nacks.set(type, (nacks.get(type) ?? 0) + 1),
};

/** ACK latencies not yet observed, by type; observed when read or when this many are waiting. */
const ACK_BATCH = 4096;
const latencies = new Map<string, number[]>();
let waiting = 0;

function observeAckLatencies(h: Histogram<'type'>): void {
  for (const [type, values] of latencies) for (const v of values) h.observe({ type }, v);
  latencies.clear();
  waiting = 0;
}

export function ackLatency(type: string, seconds: number): void {
  let values = latencies.get(type);
  if (values === undefined) latencies.set(type, (values = []));
  values.push(seconds);
  if (++waiting >= ACK_BATCH) observeAckLatencies(adsMetrics.pushAckSeconds);
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
  scopeRefused: new Counter({
    name: 'weft_xds_scope_refused_total',
    help: "Streams refused because the node metadata claimed a namespace or Service outside the proxy's credential.",
    labelNames: ['claim'] as const,
    registers: [metricsRegistry],
  }),
  pushes: new Counter({
    name: 'weft_xds_pushes_total',
    help: 'Discovery responses sent.',
    labelNames: ['type'] as const,
    registers: [metricsRegistry],
    collect() {
      drain(pushes, this);
    },
  }),
  acks: new Counter({
    name: 'weft_xds_acks_total',
    help: 'Responses the proxy accepted.',
    labelNames: ['type'] as const,
    registers: [metricsRegistry],
    collect() {
      drain(acks, this);
    },
  }),
  nacks: new Counter({
    name: 'weft_xds_nacks_total',
    help: 'Responses the proxy rejected (the last good config keeps serving there).',
    labelNames: ['type'] as const,
    registers: [metricsRegistry],
    collect() {
      drain(nacks, this);
    },
  }),
  pushAckSeconds: new Histogram({
    name: 'weft_xds_push_ack_seconds',
    help: 'Time from sending a response to its ACK or NACK.',
    labelNames: ['type'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [metricsRegistry],
    collect() {
      observeAckLatencies(this);
    },
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
