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
