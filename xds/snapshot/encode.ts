// Resource messages → bytes, once per message object. Translation reuses the same message
// objects for config shared across proxy groups, so keying the cache on object identity
// serializes shared config once for the whole mesh. Messages must not be mutated after
// they were handed to the cache (translation builds fresh objects for changed config).
import { toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { ClusterSchema, Cluster_DiscoveryType, type Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../gen/envoy/config/route/v3/route_pb.js';
import { SecretSchema } from '../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { TypeUrl } from '../resources/type-urls.ts';
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
  const add = <Desc extends DescMessage>(
    typeUrl: TypeUrl,
    schema: Desc,
    list: readonly MessageShape<Desc>[],
    nameOf: (m: MessageShape<Desc>) => string,
  ): void => {
    const byName = new Map<string, EncodedResource>();
    for (const message of list) {
      const name = nameOf(message);
      if (name === '') problems.push(`${typeUrl}: resource with an empty name`);
      else if (byName.has(name)) problems.push(`${typeUrl}: duplicate resource name "${name}"`);
      else byName.set(name, encodeResource(typeUrl, schema, name, message));
    }
    resources.set(typeUrl, byName);
  };
  add(TypeUrl.Secret, SecretSchema, set.secrets, (m) => m.name);
  add(TypeUrl.Cluster, ClusterSchema, set.clusters, (m) => m.name);
  add(TypeUrl.Endpoint, ClusterLoadAssignmentSchema, set.endpoints, (m) => m.clusterName);
  add(TypeUrl.Listener, ListenerSchema, set.listeners, (m) => m.name);
  add(TypeUrl.Route, RouteConfigurationSchema, set.routes, (m) => m.name);
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
