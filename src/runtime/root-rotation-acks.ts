// Counting ACKs for a root rotation: which connected proxies hold the current secrets
// (from the ADS streams' ACKed resource versions), and the sum over replicas. Pure.
import type { RotationPhase, RotationState } from '../ca/root-rotation.ts';
import type { ReplicaReport } from '../identity/ca-dir.ts';
import type { StreamDebug } from '../../xds/server/stream-debug.ts';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { TRUST_BUNDLE_SECRET, WORKLOAD_CERT_SECRET } from '../../xds/resources/names.ts';
import type { XdsSecurity } from './xds-security.ts';

export interface RotationAcks {
  readonly proxies: number;
  readonly current: number;
  /** Up to 10 proxies still holding older secrets (their node ids), for the log and the debug view. */
  readonly lagging: readonly string[];
  /** Every connected proxy with an identity, as `id|identity`. */
  readonly connected?: readonly string[];
}

type Expected = XdsSecurity['expected'];

/**
 * Which connected proxies hold the current secrets: for each stream with an identity, the
 * ACKed version of every secret it subscribed to equals the current one (and, from `sign` on,
 * its certificate comes from the current key). Streams without secrets hold no trust: they count
 * as current. Pure, given the streams and `expected`.
 */
export function rotationAcks(streams: readonly StreamDebug[], expected: Expected, phase: RotationPhase): RotationAcks {
  let proxies = 0;
  let current = 0;
  const lagging: string[] = [];
  const connected: string[] = [];
  for (const s of streams) {
    const identity = s.proxy.identity;
    if (identity === undefined) continue;
    proxies++;
    connected.push(`${s.proxy.id}|${identity}`);
    const t = s.types.find((x) => x.typeUrl === TypeUrl.Secret);
    const subscribed = (name: string) => t !== undefined && (t.subscribed === '*' || t.subscribed.includes(name));
    const want = expected(identity);
    const acked = (name: string) => t?.acked?.get(name)?.version;
    const bundleOk = !subscribed(TRUST_BUNDLE_SECRET) || acked(TRUST_BUNDLE_SECRET) === want.bundle;
    const certOk = !subscribed(WORKLOAD_CERT_SECRET) || (acked(WORKLOAD_CERT_SECRET) === want.cert && (phase === 'trust' || want.currentSigner));
    if (bundleOk && certOk) current++;
    else if (lagging.length < 10) lagging.push(s.proxy.id);
  }
  return { proxies, current, lagging, connected };
}

/** The leader's count plus every other replica's report since `since`; a replica still on another phase counts as not ACKed. */
export function withReplicas(
  state: RotationState,
  own: RotationAcks,
  reports: readonly ReplicaReport[],
  opts: { self?: string; since: number; peers?: readonly string[] },
): RotationAcks {
  let { proxies, current } = own;
  const lagging = [...own.lagging];
  // A live replica with no fresh report may serve proxies still on older secrets: not ACKed.
  const fresh = new Set(reports.filter((r) => r.at >= opts.since).map((r) => r.replica));
  for (const peer of opts.peers ?? []) {
    if (peer === opts.self || fresh.has(peer)) continue;
    proxies += 1;
    lagging.push(`replica ${peer} (no report yet)`);
  }
  for (const r of reports) {
    if (r.replica === opts.self || r.at < opts.since) continue;
    if (r.phase === state.phase && r.next === state.next) {
      proxies += r.proxies;
      current += r.acked;
      if (r.acked < r.proxies) lagging.push(`${r.proxies - r.acked} on replica ${r.replica}`);
    } else {
      proxies += Math.max(r.proxies, 1);
      lagging.push(`replica ${r.replica} (still ${r.phase})`);
    }
  }
  return { proxies, current, lagging: lagging.slice(0, 10) };
}
