// Resource messages → bytes, once per message object. Translation reuses the same message
// objects for config shared across proxy groups, so keying the cache on object identity
// serializes shared config once for the whole mesh. Messages must not be mutated after
// they were handed to the cache (translation builds fresh objects for changed config).
import { toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { Cluster_DiscoveryType, type Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { resourceTypes, type TypeUrl } from '../resources/type-urls.ts';
import type { ResourceSet } from '../translate/types.ts';
import { hashBytes } from './hash.ts';
import { snapshotMetrics } from './metrics.ts';
import type { EncodedResource } from './types.ts';

const encodedByMessage = new WeakMap<object, EncodedResource>();

export function encodeResource<Desc extends DescMessage>(typeUrl: TypeUrl, schema: Desc, name: string, message: MessageShape<Desc>): EncodedResource {
  const cached = encodedByMessage.get(message);
  if (cached !== undefined && cached.typeUrl === typeUrl) return cached;
  const bytes = toBinary(schema, message);
  const encoded: EncodedResource = { name, typeUrl, bytes, version: hashBytes(bytes) };
  encodedByMessage.set(message, encoded);
  snapshotMetrics.encodes.inc();
  return encoded;
}

export interface EncodedSet {
  readonly resources: ReadonlyMap<TypeUrl, ReadonlyMap<string, EncodedResource>>;
  readonly edsNames: ReadonlyMap<string, string>;
  /** Problems that make the set unpublishable (duplicate or empty names). */
  readonly problems: readonly string[];
}

/** Encodes every resource of a set into per-type maps keyed by resource name. */
export function encodeResourceSet(set: ResourceSet): EncodedSet {
  const problems: string[] = [];
  const resources = new Map<TypeUrl, Map<string, EncodedResource>>();
  for (const { typeUrl, schema, setField, nameOf } of resourceTypes) {
    const byName = new Map<string, EncodedResource>();
    for (const message of set[setField]) {
      const name = nameOf(message);
      if (name === '') problems.push(`${typeUrl}: resource with an empty name`);
      else if (byName.has(name)) problems.push(`${typeUrl}: duplicate resource name "${name}"`);
      else byName.set(name, encodeResource(typeUrl, schema, name, message));
    }
    resources.set(typeUrl, byName);
  }
  return { resources, edsNames: edsNamesOf(set.clusters), problems };
}

function edsNamesOf(clusters: readonly Cluster[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const c of clusters) {
    const t = c.clusterDiscoveryType;
    if (t.case === 'type' && t.value === Cluster_DiscoveryType.EDS) {
      names.set(c.name, c.edsClusterConfig?.serviceName || c.name);
    }
  }
  return names;
}
