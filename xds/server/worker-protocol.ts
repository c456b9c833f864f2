// Messages between the primary thread and the xDS worker threads (workers.ts, worker-main.ts).
import type { MetricsJson } from '../../src/base/metrics.ts';
import type { ListenerTimeouts } from '../../src/base/listener-timeouts.ts';
import type { DebounceOptions } from '../../src/base/debounce.ts';
import type { ProxyInfo } from '../resources/proxy.ts';
import type { CachedSnapshot } from '../snapshot/types.ts';
import type { Admission } from './admit.ts';
import type { XdsLimits } from './limits.ts';
import type { WireSnapshot } from './snapshot-wire.ts';
import type { StreamDebug } from './stream-types.ts';
import type { TlsMaterial } from './tls.ts';

export interface WorkerData {
  readonly index: number;
  /** host:port, the port already chosen: every worker listens on it with SO_REUSEPORT. */
  readonly address: string;
  readonly limits: XdsLimits;
  readonly timeouts: ListenerTimeouts;
  readonly acceptBacklog: number;
  readonly debounce?: Partial<DebounceOptions>;
  readonly flushBatch?: number;
  readonly shutdownGraceMs?: number;
  /** Present: serve TLS with this material (renewals follow as `tls` messages). */
  readonly tls?: TlsMaterial;
  /** Streams are admitted by the primary (authentication hook and scope). */
  readonly admit: boolean;
}

export type ToPrimary =
  | { readonly t: 'ready' }
  | { readonly t: 'watch'; readonly key: string; readonly proxy: ProxyInfo }
  | { readonly t: 'unwatch'; readonly key: string }
  /** The worker could not apply a snapshot (it no longer held the one it was relative to): send it whole. */
  | { readonly t: 'resync'; readonly key: string }
  | {
      readonly t: 'admit';
      readonly id: number;
      readonly authorization: readonly string[];
      readonly peer: string;
      /** The verified client certificate (DER), when the TLS layer accepted one. */
      readonly certificate?: Uint8Array;
      readonly nodeId: string;
      readonly proxy: ProxyInfo;
    }
  | { readonly t: 'connected'; readonly n: number }
  | { readonly t: 'debug'; readonly id: number; readonly streams: StreamDebug[] }
  | { readonly t: 'metrics'; readonly id: number; readonly metrics: MetricsJson }
  | { readonly t: 'pinned'; readonly id: number; readonly snapshot: CachedSnapshot | undefined }
  | { readonly t: 'closed' };

export type ToWorker =
  | { readonly t: 'snapshot'; readonly snapshot: WireSnapshot }
  | { readonly t: 'admitted'; readonly id: number; readonly admission: Admission }
  | { readonly t: 'debug'; readonly id: number }
  | { readonly t: 'metrics'; readonly id: number }
  | { readonly t: 'pinned'; readonly id: number; readonly stream: string }
  | { readonly t: 'tls'; readonly material: TlsMaterial }
  | { readonly t: 'close' };
