// The contracts between the ADS server and its streams: what a stream needs from the server
// (StreamContext) and what the server sees of a stream (AdsStream).
import type { NodeDefaults } from '../resources/node-info.ts';
import type { CachedSnapshot } from '../snapshot/types.ts';
import type { Logger } from '../../src/base/log.ts';
import type { Admit } from './admit.ts';
import type { MeshModel } from '../../src/model/types.ts';
import type { Node } from '../gen/envoy/config/core/v3/base_pb.js';
import type { Status } from '../gen/google/rpc/status_pb.js';
import type { ProxyInfo } from '../resources/proxy.ts';
import type { TypeUrl } from '../resources/type-urls.ts';
import type { SnapshotWatch } from '../snapshot/cache.ts';
import type { QueueBudget, XdsLimits } from './limits.ts';
import type { StreamDebug } from './stream-debug.ts';

export type Protocol = 'sotw' | 'delta';

/** The part of SnapshotCache the server uses. */
export interface SnapshotSource {
  watch(proxy: ProxyInfo, listener: () => void): SnapshotWatch;
  /** The model served, for holding a proxy's claimed Service to its credential (scope.ts). */
  readonly model?: MeshModel | undefined;
  /** Snapshots arrive from another thread (workers.ts): a watch may have none yet although there is a model. */
  readonly remote?: boolean;
}

export interface StreamContext {
  readonly cache: SnapshotSource;
  /** Authentication and scope of the proxy (admit.ts); without it every well-formed node is accepted. */
  readonly admit?: Admit;
  readonly log: Logger;
  readonly limits: XdsLimits;
  readonly nodeDefaults: NodeDefaults;
  readonly queueBudget: QueueBudget;
  /** Types served on this stream (SDS streams serve secrets only). */
  readonly types: ReadonlySet<TypeUrl>;
  /** Type assumed when type_url is empty (single-type services only). */
  readonly defaultTypeUrl?: TypeUrl;
  readonly onReady: (s: AdsStream) => void;
  readonly onDirty: (s: AdsStream) => void;
  readonly onClosed: (s: AdsStream) => void;
}

export type { StreamDebug, TypeDebug } from './stream-debug.ts';

/** The server's view of a stream, whatever its protocol. */
export interface AdsStream {
  readonly id: string;
  readonly protocol: Protocol;
  readonly proxy: ProxyInfo | undefined;
  /** Brings the proxy up to date with its group's current snapshot. */
  push(): void;
  /** Ends the stream from the server side (shutdown). */
  end(): void;
  debug(): StreamDebug | undefined;
  /** The snapshot the stream serves from; undefined before its first push. */
  pinnedSnapshot(): CachedSnapshot | undefined;
}

export interface BaseRequest {
  node?: Node;
  typeUrl: string;
  responseNonce: string;
  errorDetail?: Status;
}
