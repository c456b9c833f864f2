// One Prometheus registry for the process. Each component declares its own metrics
// next to its code, registered here, so /metrics shows everything an operator graphs.
import { AggregatorRegistry, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export const metricsRegistry = new Registry();
metricsRegistry.setDefaultLabels({ app: 'weft' });
collectDefaultMetrics({ register: metricsRegistry, prefix: 'weft_process_' });

/** When each named certificate in service expires (rotation.ts sets it on install; the CA root at load). */
export const certificateExpiry = new Gauge({
  name: 'weft_certificate_expiry_timestamp_seconds',
  help: 'Expiry (notAfter, Unix seconds) of the certificate in service: ca-root, xds-serving, webhook-serving.',
  labelNames: ['certificate'] as const,
  registers: [metricsRegistry],
});

export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Metrics of this process's other threads (xDS workers), one array per thread. */
const threadMetrics = new Set<() => Promise<MetricsJson[]>>();

/** Adds the metrics of other threads to processMetrics(); returns the removal. */
export function addThreadMetrics(source: () => Promise<MetricsJson[]>): () => void {
  threadMetrics.add(source);
  return () => threadMetrics.delete(source);
}

/**
 * Every thread's metrics as one registry (what /metrics serves): this thread's registry, plus
 * the series of the other threads summed into the same names (their weft_process_* are left
 * out: one process).
 */
export async function processMetrics(): Promise<Registry> {
  if (threadMetrics.size === 0) return metricsRegistry;
  const mine = await metricsRegistry.getMetricsAsJSON();
  const theirs = (await Promise.all([...threadMetrics].map((s) => s()))).flat();
  return AggregatorRegistry.aggregate([mine, ...theirs.map((m) => m.filter((x) => !x.name.startsWith('weft_process_')))]);
}
