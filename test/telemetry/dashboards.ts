// The Grafana dashboards in the chart (charts/weft/dashboards) as the queries they run, and the
// documented golden-signal queries (docs/telemetry.md), for the tests that run them against a
// real Prometheus.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const dashboardsDir = fileURLToPath(new URL('../../charts/weft/dashboards', import.meta.url));

const PAIR = 'source_workload, source_namespace, destination_service, destination_namespace';
const R = '$__rate_interval';

/** The golden signals per service pair, as docs/telemetry.md gives them. */
export const GOLDEN_SIGNALS = {
  requestRate: `sum by (${PAIR}) (rate(envoy_cluster_upstream_rq_total{destination_service!=""}[${R}]))`,
  errorRate:
    `sum by (${PAIR}) (rate(envoy_cluster_upstream_rq_xx{destination_service!="",envoy_response_code_class="5"}[${R}]))` +
    ` / sum by (${PAIR}) (rate(envoy_cluster_upstream_rq_xx{destination_service!=""}[${R}]))`,
  latencyP99Ms: `histogram_quantile(0.99, sum by (le, ${PAIR}) (rate(envoy_cluster_upstream_rq_time_bucket{destination_service!=""}[${R}])))`,
  bytesSent: `sum by (${PAIR}) (rate(envoy_cluster_upstream_cx_tx_bytes_total{destination_service!=""}[${R}]))`,
  bytesReceived: `sum by (${PAIR}) (rate(envoy_cluster_upstream_cx_rx_bytes_total{destination_service!=""}[${R}]))`,
} as const;

/** Grafana's variables as the test mesh fills them (the shop namespace, the checkout service). */
export function substitute(expr: string, vars: Readonly<Record<string, string>> = { namespace: 'shop', service: 'checkout', __rate_interval: '1m' }): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (m, name: string) => vars[name] ?? m);
}

export interface PanelQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly expr: string;
}

interface Dashboard {
  title: string;
  panels?: { title: string; targets?: { expr?: string }[] }[];
}

/** Every panel target's expression in every dashboard file. */
export async function dashboardQueries(): Promise<PanelQuery[]> {
  const out: PanelQuery[] = [];
  for (const file of (await readdir(dashboardsDir)).filter((f) => f.endsWith('.json')).sort()) {
    const d = JSON.parse(await readFile(join(dashboardsDir, file), 'utf8')) as Dashboard;
    for (const p of d.panels ?? []) for (const t of p.targets ?? []) if (t.expr) out.push({ dashboard: d.title, panel: p.title, expr: t.expr });
  }
  return out;
}
