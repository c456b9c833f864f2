// The /debug/proxies view: who is connected, what each proxy was sent and has ACKed, and
// the last NACK per type. Plain JSON-ready data; the HTTP side mounts it elsewhere.
import type { ProxyKind } from '../resources/proxy.ts';
import type { StreamDebug } from './stream-debug.ts';
import type { NackRecord } from '../protocol/state.ts';
import { compareStrings } from '../../src/base/order.ts';

export interface ProxyTypeDebug {
  readonly versionSent: string;
  readonly versionAcked: string;
  readonly subscribed: '*' | readonly string[];
  readonly lastNack?: NackRecord;
  /** Sent version not ACKed, but its content is what the proxy last ACKed (a NACK then a revert). */
  readonly holdsLatest?: true;
}

export interface ProxyDebug {
  readonly id: string;
  readonly stream: string;
  readonly protocol: 'sotw' | 'delta';
  readonly kind: ProxyKind;
  readonly namespace: string;
  /** The Pod, read from an injected sidecar's node id (`<pod>.<namespace>`); display only, as the id. */
  readonly pod?: string;
  readonly service?: string;
  readonly identity?: string;
  readonly group: string;
  readonly connectedSince: string;
  readonly snapshotVersion?: string;
  /** Keyed by type URL, in push order. */
  readonly types: Readonly<Record<string, ProxyTypeDebug>>;
}

/** The Pod name in an injected sidecar's node id (`$(POD_NAME).$(POD_NAMESPACE)`, webhook/containers.ts). */
export function podOfNodeId(id: string, namespace: string): string | undefined {
  const suffix = `.${namespace}`;
  return id.endsWith(suffix) && id.length > suffix.length ? id.slice(0, -suffix.length) : undefined;
}

/** Connected proxies sorted by id, then stream. */
export function debugProxies(streams: { debug(): StreamDebug[] } | readonly StreamDebug[]): ProxyDebug[] {
  return ('debug' in streams ? streams.debug() : streams)
    .map((s) => ({
      id: s.proxy.id,
      stream: s.stream,
      protocol: s.protocol,
      kind: s.proxy.kind,
      namespace: s.proxy.namespace,
      ...(s.proxy.kind === 'sidecar' && podOfNodeId(s.proxy.id, s.proxy.namespace) !== undefined ? { pod: podOfNodeId(s.proxy.id, s.proxy.namespace) } : {}),
      ...(s.proxy.service !== undefined ? { service: s.proxy.service } : {}),
      ...(s.proxy.identity !== undefined ? { identity: s.proxy.identity } : {}),
      group: s.group,
      connectedSince: s.connectedSince,
      ...(s.snapshotVersion !== undefined ? { snapshotVersion: s.snapshotVersion } : {}),
      types: Object.fromEntries(
        s.types.map((t) => [
          t.typeUrl,
          {
            versionSent: t.versionSent,
            versionAcked: t.versionAcked,
            subscribed: t.subscribed,
            ...(t.lastNack !== undefined ? { lastNack: t.lastNack } : {}),
            ...(t.holdsLatest ? { holdsLatest: true as const } : {}),
          },
        ]),
      ),
    }))
    .sort((a, b) => compareStrings(a.id, b.id) || compareStrings(a.stream, b.stream));
}
