// Resource messages → bytes, once per message object. Translation reuses the same message
// objects for config shared across proxy groups, so keying the cache on object identity
// serializes shared config once for the whole mesh. Messages must not be mutated after
// they were handed to the cache (translation builds fresh objects for changed config).
import { toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { Cluster_DiscoveryType, type Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { resourceTypes, type TypeUrl } from '../resources/type-urls.ts';
import type { ResourceSet } from '../translate/types.ts';
import { hashBytes, hashResourceVersions } from './hash.ts';
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

interface EncodedList {
  readonly byName: ReadonlyMap<string, EncodedResource>;
  readonly problems: readonly string[];
}

// Translation hands groups (and, across endpoint-only changes, models: src/model/endpoint-free.ts) the
// same arrays of messages: each array is walked once.
const encodedByList = new Map<TypeUrl, WeakMap<readonly object[], EncodedList>>(resourceTypes.map((t) => [t.typeUrl, new WeakMap()]));
const edsNamesByList = new WeakMap<readonly Cluster[], ReadonlyMap<string, string>>();
const versionByMap = new WeakMap<ReadonlyMap<string, EncodedResource>, string>();

/** Encodes every resource of a set into per-type maps keyed by resource name. */
export function encodeResourceSet(set: ResourceSet): EncodedSet {
  const problems: string[] = [];
  const resources = new Map<TypeUrl, ReadonlyMap<string, EncodedResource>>();
  for (const { typeUrl, schema, setField, nameOf } of resourceTypes) {
    const list: readonly object[] = set[setField];
    const memo = encodedByList.get(typeUrl)!;
    let encoded = memo.get(list);
    if (encoded === undefined) {
      const byName = new Map<string, EncodedResource>();
      const listProblems: string[] = [];
      for (const message of set[setField]) {
        const name = nameOf(message);
        if (name === '') listProblems.push(`${typeUrl}: resource with an empty name`);
        else if (byName.has(name)) listProblems.push(`${typeUrl}: duplicate resource name "${name}"`);
        else byName.set(name, encodeResource(typeUrl, schema, name, message));
      }
      encoded = { byName, problems: listProblems };
      memo.set(list, encoded);
    }
    problems.push(...encoded.problems);
    resources.set(typeUrl, encoded.byName);
  }
  let edsNames = edsNamesByList.get(set.clusters);
  if (edsNames === undefined) edsNamesByList.set(set.clusters, (edsNames = edsNamesOf(set.clusters)));
  return { resources, edsNames, problems };
}

/** The version of one type's resources (hashResourceVersions), once per map. */
export function typeVersion(byName: ReadonlyMap<string, EncodedResource>): string {
  let v = versionByMap.get(byName);
  if (v === undefined) versionByMap.set(byName, (v = hashResourceVersions(byName.values())));
  return v;
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
