// The xDS resource types Weft serves: one row each, in push order. Everything else in xds/
// that depends on the type (encoding, naming, SotW full state, the CDS → CLA resend, metric
// labels, which types a service serves) reads this table instead of comparing type URLs.
import type { DescMessage, Message, MessageShape } from '@bufbuild/protobuf';
import { ClusterSchema } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../gen/envoy/config/route/v3/route_pb.js';
import { SecretSchema } from '../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';

export const TypeUrl = {
  Cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  Endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  Listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  Route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  Secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

export type TypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

export interface ResourceType {
  readonly typeUrl: TypeUrl;
  /** Short name for metric labels and logs. */
  readonly label: 'sds' | 'cds' | 'eds' | 'lds' | 'rds';
  /** The resource message (the `value` of each Any in a response). */
  readonly schema: DescMessage;
  /** The list of translation's ResourceSet that holds this type. */
  readonly setField: 'secrets' | 'clusters' | 'endpoints' | 'listeners' | 'routes';
  /** A resource's name: its key in snapshots, subscriptions and Delta responses. */
  nameOf(message: Message): string;
  /**
   * SotW responses carry every resource of the type the client subscribes to (absence means
   * removal), and a request naming nothing means `*` until the client names something.
   * Other types send what changed; their removals are implicit (parents stop naming them).
   */
  readonly fullState: boolean;
  /** Types whose resources this one names (checked by the snapshot's consistency check). */
  readonly references: readonly TypeUrl[];
  /**
   * Envoy re-warms a changed resource of this type until it receives the resource it names
   * of this type again, unchanged or not (a changed cluster waits for its CLA): resent.
   */
  readonly resendOnChange?: TypeUrl;
}

// Method syntax keeps nameOf bivariant: each row names its own message type.
interface Row<D extends DescMessage> extends Omit<ResourceType, 'schema' | 'nameOf'> {
  readonly schema: D;
  nameOf(message: MessageShape<D>): string;
}
const row = <D extends DescMessage>(r: Row<D>): ResourceType => r as ResourceType;

/**
 * Push order (make-before-break): SDS first (clusters and listeners name secrets), then
 * CDS → EDS (Envoy warms a cluster until its CLA arrives) → LDS → RDS (a listener warms until
 * its route config arrives). Removals go in the reverse order, references dropped first.
 */
export const resourceTypes: readonly ResourceType[] = [
  row({ typeUrl: TypeUrl.Secret, label: 'sds', schema: SecretSchema, setField: 'secrets', nameOf: (m) => m.name, fullState: false, references: [] }),
  row({
    typeUrl: TypeUrl.Cluster,
    label: 'cds',
    schema: ClusterSchema,
    setField: 'clusters',
    nameOf: (m) => m.name,
    fullState: true,
    references: [TypeUrl.Endpoint, TypeUrl.Secret],
    resendOnChange: TypeUrl.Endpoint,
  }),
  row({
    typeUrl: TypeUrl.Endpoint,
    label: 'eds',
    schema: ClusterLoadAssignmentSchema,
    setField: 'endpoints',
    nameOf: (m) => m.clusterName,
    fullState: false,
    references: [],
  }),
  row({
    typeUrl: TypeUrl.Listener,
    label: 'lds',
    schema: ListenerSchema,
    setField: 'listeners',
    nameOf: (m) => m.name,
    fullState: true,
    references: [TypeUrl.Route, TypeUrl.Cluster, TypeUrl.Secret],
  }),
  row({
    typeUrl: TypeUrl.Route,
    label: 'rds',
    schema: RouteConfigurationSchema,
    setField: 'routes',
    nameOf: (m) => m.name,
    fullState: false,
    references: [TypeUrl.Cluster],
  }),
];

const byUrl = new Map<string, ResourceType>(resourceTypes.map((t) => [t.typeUrl, t]));

/** The row of a type Weft serves, or undefined. */
export function resourceType(typeUrl: string): ResourceType | undefined {
  return byUrl.get(typeUrl);
}

/** The row of a type Weft serves (a TypeUrl always has one). */
export function typeOf(typeUrl: TypeUrl): ResourceType {
  return byUrl.get(typeUrl)!;
}

/** CDS → EDS → LDS → RDS (SDS first): the table's order. */
export const pushOrder: readonly TypeUrl[] = resourceTypes.map((t) => t.typeUrl);

/** Types whose SotW responses must carry the full state (wildcard-capable). */
export const fullStateTypes: ReadonlySet<string> = new Set(resourceTypes.filter((t) => t.fullState).map((t) => t.typeUrl));

export function isKnownTypeUrl(t: string): t is TypeUrl {
  return byUrl.has(t);
}
