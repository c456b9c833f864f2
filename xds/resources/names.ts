// The one module that owns Envoy resource names. Translation, the snapshot cache, the
// debug API and the tests all derive names from here, so a rename happens in one place.
// Names are part of the wire contract: Envoy keys warming, draining and stats on them,
// and proxyless gRPC clients request listeners by the exact host:port they dial.

/** Kubernetes cluster DNS domain. */
export const CLUSTER_DOMAIN = 'cluster.local';

/** ORIGINAL_DST cluster: forwards to wherever the connection was going (unknown destinations). */
export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';

/** Captured outbound traffic lands here and is handed off by original destination. */
export const VIRTUAL_OUTBOUND_LISTENER = 'virtualOutbound';
/** Captured inbound traffic lands here; one filter chain per target port. */
export const VIRTUAL_INBOUND_LISTENER = 'virtualInbound';
/** Explicit (non-captured) mode: the HTTP proxy listener on loopback, and its route config. */
export const EXPLICIT_OUTBOUND_LISTENER = 'explicitOutbound';
export const EXPLICIT_OUTBOUND_ROUTE = 'explicitOutbound';
/** Explicit mode: the inbound listener on 0.0.0.0:<WEFT_INBOUND_PORT>, forwarding to the fronted service's app. */
export const EXPLICIT_INBOUND_LISTENER = 'explicitInbound';

/** Static bootstrap cluster to the OTLP/gRPC collector; the tracer in every traced HCM points at it. */
export const OTLP_CLUSTER = 'weft-otlp';

/** SDS secret with the proxy's own workload certificate and key (its SPIFFE identity). */
export const WORKLOAD_CERT_SECRET = 'default';
/** SDS secret with the mesh trust bundle (root CA certificates) used to validate peers. */
export const TRUST_BUNDLE_SECRET = 'ROOTCA';

/** Minimal shape of a service reference, so callers need not hold a whole MeshService. */
export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
}

/** `name.ns.svc.cluster.local`. */
export function serviceFqdn(svc: ServiceRef): string {
  return `${svc.name}.${svc.namespace}.svc.${CLUSTER_DOMAIN}`;
}

/** EDS cluster for one service port, Istio style: `outbound|8080||checkout.shop.svc.cluster.local`. */
export function outboundClusterName(svc: ServiceRef, port: number): string {
  return `outbound|${port}||${serviceFqdn(svc)}`;
}

/** How an inbound connection reached the proxy: mesh mTLS, plaintext, or the app's own TLS passed through. */
export type InboundSecurity = 'mtls' | 'plaintext' | 'tls';

/**
 * stat_prefix of the connection manager / TCP proxy on one inbound filter chain:
 * `inbound_8080_mtls`. The suffix becomes the `security` label of the `http.*` and `tcp.*`
 * stats (xds/bootstrap/telemetry.ts extracts it), so keep the two in step.
 */
export function inboundStatPrefix(targetPort: number, security: InboundSecurity): string {
  return `inbound_${targetPort}_${security}`;
}

/** STATIC cluster to the local application on one target port: `inbound|8080||`. */
export function inboundClusterName(targetPort: number): string {
  return `inbound|${targetPort}||`;
}

/** Per-port outbound listener (bind_to_port false) in capture mode: `0.0.0.0_8080`. */
export function outboundPortListenerName(port: number): string {
  return `0.0.0.0_${port}`;
}

/** Route config of the per-port outbound listener's unmatched chain (Host routing, allow_any): the port number. */
export function outboundPortRouteName(port: number): string {
  return String(port);
}

/**
 * Route config of one service port in capture mode, named like its cluster (another type:
 * no clash): `outbound|8080||checkout.shop.svc.cluster.local`. The listener's chain for the
 * service's ClusterIP refers to it, so a route change of one service is pushed alone.
 */
export function outboundServiceRouteName(svc: ServiceRef, port: number): string {
  return outboundClusterName(svc, port);
}

/** Virtual host name for one service port inside a route config. */
export function virtualHostName(svc: ServiceRef, port: number): string {
  return `${serviceFqdn(svc)}:${port}`;
}

/** Route config shared by every API listener of one service port (proxyless gRPC). */
export function proxylessRouteName(svc: ServiceRef, port: number): string {
  return `${serviceFqdn(svc)}:${port}`;
}

/**
 * The host names a Service answers to, most specific last: `name` (only for callers in
 * the same namespace), `name.ns`, `name.ns.svc`, `name.ns.svc.cluster.local`.
 */
export function serviceHosts(svc: ServiceRef, callerNamespace: string): string[] {
  const hosts = [`${svc.name}.${svc.namespace}`, `${svc.name}.${svc.namespace}.svc`, serviceFqdn(svc)];
  return svc.namespace === callerNamespace ? [svc.name, ...hosts] : hosts;
}

/** Every host variant with `:port` (what an HTTP/1.1 Host or an h2 :authority carries off port 80). */
export function serviceHostPorts(svc: ServiceRef, port: number, callerNamespace: string): string[] {
  return serviceHosts(svc, callerNamespace).map((h) => `${h}:${port}`);
}

/** Every host variant, with and without `:port`, sorted. */
export function serviceDomains(svc: ServiceRef, port: number, callerNamespace: string): string[] {
  return [...serviceHosts(svc, callerNamespace), ...serviceHostPorts(svc, port, callerNamespace)].sort();
}

/**
 * API listener names for a proxyless gRPC client: grpc-js-xds requests the listener named
 * exactly by the target's authority, e.g. `xds:///checkout.shop:50051` → `checkout.shop:50051`.
 */
export function proxylessListenerNames(svc: ServiceRef, port: number, callerNamespace: string): string[] {
  return serviceHostPorts(svc, port, callerNamespace).sort();
}

/**
 * The Service of a virtual host, route configuration or API listener named after a service
 * port's FQDN (`checkout.shop.svc.cluster.local:8080`, `outbound|8080||checkout.shop.svc.cluster.local`):
 * `shop/checkout`, or undefined for any other name. What Programmed reads to tell which
 * Services a proxy receives configuration of.
 */
export function serviceKeyOfName(name: string): string | undefined {
  const fqdn = name.startsWith('outbound|') ? name.slice(name.lastIndexOf('|') + 1) : name.slice(0, name.lastIndexOf(':'));
  const suffix = `.svc.${CLUSTER_DOMAIN}`;
  if (!fqdn.endsWith(suffix)) return undefined;
  const [svc, ns, ...rest] = fqdn.slice(0, -suffix.length).split('.');
  return svc && ns && rest.length === 0 ? `${ns}/${svc}` : undefined;
}
