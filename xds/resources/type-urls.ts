// xDS type URLs, and the make-before-break order in which updates are sent.
export const TypeUrl = {
  Cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  Endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  Listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  Route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  Secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

export type TypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

/** CDS → EDS → LDS → RDS (SDS first: clusters and listeners reference secrets). */
export const pushOrder: readonly TypeUrl[] = [TypeUrl.Secret, TypeUrl.Cluster, TypeUrl.Endpoint, TypeUrl.Listener, TypeUrl.Route];

/** Types whose SotW responses must carry the full state (wildcard-capable). */
export const fullStateTypes: ReadonlySet<string> = new Set([TypeUrl.Cluster, TypeUrl.Listener]);

export function isKnownTypeUrl(t: string): t is TypeUrl {
  return (Object.values(TypeUrl) as string[]).includes(t);
}
