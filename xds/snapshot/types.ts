// The contract between translation and the ADS server: a snapshot holds encoded
// resources per type, each with a content-hash version. The server streams whatever
// the cache holds; it never builds config.
import type { TypeUrl } from '../resources/type-urls.ts';

export interface EncodedResource {
  readonly name: string;
  readonly typeUrl: TypeUrl;
  /** The serialized resource message (the `value` of its Any). Shared, never mutated. */
  readonly bytes: Uint8Array;
  /** Content hash of `bytes`: equal versions mean the proxy already has it. */
  readonly version: string;
}

export interface Snapshot {
  /** Hash over every resource version: equal snapshots have equal versions. */
  readonly version: string;
  readonly resources: ReadonlyMap<TypeUrl, ReadonlyMap<string, EncodedResource>>;
}

/**
 * What the snapshot cache publishes: a Snapshot plus what the server needs to diff cheaply.
 * Type maps with equal content are the same object (interned), so per-stream state can hold
 * references instead of copies, and memoized views/encodings are shared across proxy groups.
 */
export interface CachedSnapshot extends Snapshot {
  /** Content hash per type (over names and resource versions); absent types hash the empty set. */
  readonly typeVersions: ReadonlyMap<TypeUrl, string>;
  /** EDS cluster name → the ClusterLoadAssignment name it waits for (service_name or its own name). */
  readonly edsNames: ReadonlyMap<string, string>;
  /** The model version this snapshot was generated from. */
  readonly modelVersion: string;
}
