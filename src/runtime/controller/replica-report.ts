// The report each controller replica publishes about the proxies connected to it, and the
// object that carries it: a coordination.k8s.io/v1 Lease `weft-replica-<identity>` in the
// control-plane namespace, renewed as the replica's liveness (holderIdentity, renewTime,
// leaseDurationSeconds), with the report as a JSON annotation. Compact on purpose: one
// tuple per Weft resource its proxies are affected by, never one row per proxy, so it stays
// a few kilobytes at 10,000 proxies (annotations are capped at 256 KiB per object).
//
//   metadata.labels:      app.kubernetes.io/name=weft, app.kubernetes.io/component=weft-replica-report
//   metadata.annotations: weft.dev/replica        the replica identity (pod name)
//                         weft.dev/pod-ip         the replica's Pod IP ($POD_IP; absent outside a Pod)
//                         weft.dev/monitoring-port, weft.dev/xds-port, and weft.dev/debug-port when
//                         /debug/* has a listener of its own that is not loopback-only
//                         weft.dev/report         ReplicaReport as JSON (below)
import { z } from 'zod';

export const REPORT_COMPONENT = 'weft-replica-report';
export const REPORT_LABELS = { 'app.kubernetes.io/name': 'weft', 'app.kubernetes.io/component': REPORT_COMPONENT } as const;
export const REPORT_SELECTOR = Object.entries(REPORT_LABELS)
  .map(([k, v]) => `${k}=${v}`)
  .join(',');
export const Annotations = {
  replica: 'weft.dev/replica',
  podIP: 'weft.dev/pod-ip',
  monitoringPort: 'weft.dev/monitoring-port',
  debugPort: 'weft.dev/debug-port',
  xdsPort: 'weft.dev/xds-port',
  report: 'weft.dev/report',
} as const;

export interface Rejection {
  readonly proxy: string;
  /** Short type label (cds, lds, rds, eds, sds). */
  readonly type: string;
  /** The first 240 characters of Envoy's message. */
  readonly message: string;
}

export interface Tally {
  readonly affected: number;
  readonly acked: number;
  readonly rejected: number;
  readonly first?: Rejection;
}

export interface ReplicaReport {
  readonly replica: string;
  /** The configuration version (src/model/config-version.ts) the counts are for. */
  readonly configVersion: string;
  /** The model version at the time (endpoints included): information only. */
  readonly modelVersion: string;
  /** Proxies (streams) connected to this replica. */
  readonly proxies: number;
  /** `Kind namespace/name` → tally; resources with no affected proxy here are left out. */
  readonly resources: ReadonlyMap<string, Tally>;
}

/**
 * The annotation's JSON: `{"v":1,"replica":…,"config":…,"model":…,"proxies":N,
 * "resources":{"TrafficSplit shop/web":[affected,acked,rejected] or
 * [affected,acked,rejected,proxy,type,message]}}`.
 */
const tuple = z.union([
  z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative(), z.number().int().nonnegative()]),
  z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative(), z.number().int().nonnegative(), z.string(), z.string(), z.string()]),
]);
const wire = z.object({
  v: z.literal(1),
  replica: z.string(),
  config: z.string(),
  model: z.string(),
  proxies: z.number().int().nonnegative(),
  resources: z.record(z.string(), tuple),
});

export function encodeReport(r: ReplicaReport): string {
  const resources: Record<string, unknown[]> = {};
  for (const [k, t] of [...r.resources].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    resources[k] = t.first ? [t.affected, t.acked, t.rejected, t.first.proxy, t.first.type, t.first.message] : [t.affected, t.acked, t.rejected];
  }
  return JSON.stringify({ v: 1, replica: r.replica, config: r.configVersion, model: r.modelVersion, proxies: r.proxies, resources });
}

/** A peer's annotation, or undefined when it is missing or not a report we understand. */
export function decodeReport(text: string | undefined): ReplicaReport | undefined {
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = wire.safeParse(json);
  if (!parsed.success) return undefined;
  const w = parsed.data;
  const resources = new Map<string, Tally>();
  for (const [k, t] of Object.entries(w.resources)) {
    const [affected, acked, rejected, proxy, type, message] = t;
    resources.set(k, { affected, acked, rejected, ...(proxy !== undefined ? { first: { proxy, type: type ?? '', message: message ?? '' } } : {}) });
  }
  return { replica: w.replica, configVersion: w.config, modelVersion: w.model, proxies: w.proxies, resources };
}

/** `weft-replica-<identity>`, made a valid object name (lowercase DNS subdomain, ≤ 253). */
export function reportLeaseName(identity: string): string {
  const safe = identity
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return `weft-replica-${safe || 'unnamed'}`.slice(0, 253).replace(/[^a-z0-9]+$/, '');
}
