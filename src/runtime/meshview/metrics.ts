// The mesh view's own cost, for the operator: scrapes by result, how long a round takes, and
// access decisions of the debug API by status (a stream of 401s is someone probing).
import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '../../base/metrics.ts';

export const meshViewMetrics = {
  scrapes: new Counter({
    name: 'weft_mesh_view_scrapes_total',
    help: "Scrapes of proxies' Envoy stats by the mesh view, by result (ok, error).",
    labelNames: ['result'] as const,
    registers: [metricsRegistry],
  }),
  roundSeconds: new Histogram({
    name: 'weft_mesh_view_scrape_round_seconds',
    help: 'Time to scrape every connected proxy once (bounded by concurrency and the per-proxy timeout).',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30],
    registers: [metricsRegistry],
  }),
  access: new Counter({
    name: 'weft_debug_api_requests_total',
    help: 'Requests to /debug/* and /mesh/api/*, by the access decision (200 allowed everything, scoped: only the namespaces the caller may read, 401, 403, 503).',
    labelNames: ['status'] as const,
    registers: [metricsRegistry],
  }),
};
