// The debug view of one stream: who it serves, and per type what it subscribed to, sent and had ACKed.
import type { NackRecord, StreamState } from '../protocol/state.ts';
import type { Known, Subscription, View } from '../protocol/views.ts';
import type { ProxyInfo } from '../resources/proxy.ts';
import { pushOrder, type TypeUrl } from '../resources/type-urls.ts';
import type { CachedSnapshot } from '../snapshot/types.ts';

export interface TypeDebug {
  readonly typeUrl: TypeUrl;
  readonly subscribed: '*' | readonly string[];
  readonly versionSent: string;
  readonly versionAcked: string;
  /** What the proxy ACKed, name → resource version (content hash): e.g. which trust bundle it holds. */
  readonly acked?: Known;
  readonly lastNack?: NackRecord;
  /**
   * The client holds the content last planned for it although it did not ACK the version
   * last sent: it NACKed a response and the snapshot has since gone back to what it had
   * ACKed (nothing is re-sent then). It is up to date, and the NACK is history.
   */
  readonly holdsLatest?: true;
}

/** What the client ACKed is exactly the content last planned for it (same names, same versions). */
function holdsLatest(st: { readonly sent?: View; readonly acked?: Known }): boolean {
  const sent = st.sent?.resources;
  const acked = st.acked;
  if (sent === undefined || acked === undefined || sent.size !== acked.size) return false;
  for (const [name, r] of sent) if (acked.get(name)?.version !== r.version) return false;
  return true;
}

/** One frozen names array per interned subscription: readers can memoize on it (xds/snapshot/received.ts). */
const names = new WeakMap<Subscription, readonly string[]>();
function namesOf(sub: Subscription): readonly string[] {
  let n = names.get(sub);
  if (n === undefined) names.set(sub, (n = Object.freeze([...sub.names])));
  return n;
}

export interface StreamDebug {
  readonly stream: string;
  readonly protocol: 'sotw' | 'delta';
  readonly proxy: ProxyInfo;
  readonly group: string;
  readonly connectedSince: string;
  /** The connection's remote address as gRPC reports it (e.g. `127.0.0.1:53122`). */
  readonly peer?: string;
  readonly snapshotVersion?: string;
  readonly types: readonly TypeDebug[];
}

export function describeStream(s: {
  readonly id: string;
  readonly protocol: 'sotw' | 'delta';
  readonly proxy: ProxyInfo;
  readonly group: string;
  readonly connectedAt: Date;
  readonly peer?: string;
  readonly pinned: CachedSnapshot | undefined;
  readonly state: StreamState<Known>;
}): StreamDebug {
  const types: TypeDebug[] = [];
  for (const typeUrl of pushOrder) {
    const st = s.state.types.get(typeUrl);
    if (st === undefined) continue;
    types.push({
      typeUrl,
      subscribed: st.sub.wildcard ? '*' : namesOf(st.sub),
      versionSent: st.versionSent,
      versionAcked: st.versionAcked,
      ...(st.acked !== undefined ? { acked: st.acked } : {}),
      ...(st.lastNack !== undefined ? { lastNack: st.lastNack } : {}),
      ...(st.versionAcked !== st.versionSent && holdsLatest(st) ? { holdsLatest: true as const } : {}),
    });
  }
  return {
    stream: s.id,
    protocol: s.protocol,
    proxy: s.proxy,
    group: s.group,
    connectedSince: s.connectedAt.toISOString(),
    ...(s.peer !== undefined ? { peer: s.peer } : {}),
    ...(s.pinned !== undefined ? { snapshotVersion: s.pinned.version } : {}),
    types,
  };
}
