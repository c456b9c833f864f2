// Every well-known port and id of the data path, in one place (architecture.md).
export const MeshPorts = {
  /** Virtual outbound listener (original destination) when traffic is captured; explicit HTTP proxy otherwise. */
  outbound: 15001,
  /** Inbound listener that captured inbound traffic is redirected to. */
  inbound: 15006,
  /** Envoy admin, bound to 127.0.0.1 only. */
  admin: 15000,
  /** Prometheus stats served by the sidecar. */
  stats: 15090,
  /** Sidecar readiness endpoint. */
  readiness: 15021,
  /** Control plane: ADS over plaintext gRPC (loopback / development only). */
  xdsPlaintext: 15010,
  /** Control plane: ADS over TLS. */
  xdsTls: 15012,
  /** Control plane: admission webhook (HTTPS). */
  webhook: 9443,
  /** Control plane: /healthz, /readyz, /metrics, debug API and mesh view. */
  monitoring: 15014,
  /** Control plane in the chart: the debug API and mesh view on 127.0.0.1 only, unless they are authenticated. */
  debug: 15015,
} as const;

/** Envoy runs as this uid; its own traffic bypasses capture. */
export const PROXY_UID = 1337;

/** Name of the xDS cluster in every bootstrap. */
export const XDS_CLUSTER_NAME = 'weft-xds';
