// `weftctl status`'s rows and table: every proxy connected to any replica, with per type what
// was sent and ACKed and one verdict — SYNCED (every type ACKed at the version sent), STALE (a
// sent version not ACKed yet), NACKED (the latest version of a type was rejected; the message is
// Envoy's). The same rules as the mesh view (meshview/graph.ts).
import { age, textTable } from '../base/table.ts';
import { compareStrings } from '../base/order.ts';
import type { ProxyDebug } from '../../xds/server/debug.ts';
import { resourceTypes } from '../../xds/resources/type-urls.ts';

export type SyncState = 'SYNCED' | 'STALE' | 'NACKED';

export interface TypeStatus {
  /** CDS, EDS, LDS, RDS, SDS. */
  readonly type: string;
  readonly sent: string;
  readonly acked: string;
  readonly status: SyncState;
  readonly nack?: string;
}

export interface StatusRow {
  readonly namespace: string;
  readonly pod?: string;
  readonly proxy: string;
  readonly identity?: string;
  readonly replica: string;
  readonly kind: string;
  readonly protocol: string;
  readonly connectedSince: string;
  readonly status: SyncState;
  readonly types: readonly TypeStatus[];
}

const labelOf = new Map<string, string>(resourceTypes.map((t) => [t.typeUrl, t.label.toUpperCase()]));
export const TYPE_COLUMNS = ['CDS', 'EDS', 'LDS', 'RDS', 'SDS'] as const;

function typeStatus(typeUrl: string, t: ProxyDebug['types'][string]): TypeStatus {
  // holdsLatest: the proxy NACKed a version, then the config went back to what it had ACKed.
  const synced = t.versionAcked === t.versionSent || t.holdsLatest === true;
  const nacked = !synced && t.lastNack !== undefined;
  return {
    type: labelOf.get(typeUrl) ?? typeUrl.slice(typeUrl.lastIndexOf('.') + 1),
    sent: t.versionSent,
    acked: t.versionAcked,
    status: nacked ? 'NACKED' : synced ? 'SYNCED' : 'STALE',
    ...(nacked && t.lastNack ? { nack: t.lastNack.message } : {}),
  };
}

/** One row per proxy stream; rows of several replicas are concatenated and sorted by statusRowsSorted. */
export function statusRows(replica: string, proxies: readonly ProxyDebug[]): StatusRow[] {
  return proxies.map((p) => {
    const types = Object.entries(p.types).map(([url, t]) => typeStatus(url, t));
    const status: SyncState = types.some((t) => t.status === 'NACKED') ? 'NACKED' : types.every((t) => t.status === 'SYNCED') ? 'SYNCED' : 'STALE';
    return {
      namespace: p.namespace,
      ...(p.pod !== undefined ? { pod: p.pod } : {}),
      proxy: p.id,
      ...(p.identity !== undefined ? { identity: p.identity } : {}),
      replica,
      kind: p.kind,
      protocol: p.protocol,
      connectedSince: p.connectedSince,
      status,
      types,
    };
  });
}

export function sortStatusRows(rows: StatusRow[]): StatusRow[] {
  return rows.sort(
    (a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.pod ?? a.proxy, b.pod ?? b.proxy) || compareStrings(a.replica, b.replica),
  );
}

const short = (v: string): string => (v === '' ? '-' : v.slice(0, 8));

export function formatStatus(rows: readonly StatusRow[], wide: boolean, now: Date): string {
  if (rows.length === 0) return 'No proxies connected.\n';
  const cell = (r: StatusRow, col: string): string => {
    const t = r.types.find((x) => x.type === col);
    if (t === undefined) return '-';
    return wide ? `${short(t.sent)}/${short(t.acked)}` : t.status;
  };
  const headers = wide
    ? ['NAMESPACE', 'POD', 'PROXY', 'IDENTITY', 'REPLICA', 'PROTOCOL', 'STATUS', ...TYPE_COLUMNS.map((c) => `${c} SENT/ACKED`), 'AGE']
    : ['NAMESPACE', 'POD', 'IDENTITY', 'REPLICA', 'STATUS', ...TYPE_COLUMNS];
  const table = textTable(
    headers,
    rows.map((r) =>
      wide
        ? [
            r.namespace,
            r.pod ?? '-',
            r.proxy,
            r.identity ?? '-',
            r.replica,
            r.protocol,
            r.status,
            ...TYPE_COLUMNS.map((c) => cell(r, c)),
            age(r.connectedSince, now),
          ]
        : [r.namespace, r.pod ?? r.proxy, r.identity ?? '-', r.replica, r.status, ...TYPE_COLUMNS.map((c) => cell(r, c))],
    ),
  );
  const nacks = rows.flatMap((r) =>
    r.types
      .filter((t) => t.nack !== undefined)
      .map((t) => `NACKED ${r.namespace}/${r.pod ?? r.proxy} ${t.type}: ${(t.nack ?? '').split('\n')[0]?.slice(0, 300)}`),
  );
  return nacks.length === 0 ? table : `${table}\n${nacks.join('\n')}\n`;
}
