// What the xDS server knows about a connected proxy. Built from node metadata (and, once
// authenticated, from its credential); translation and the snapshot cache key on it.

export type ProxyKind = 'sidecar' | 'proxyless';

export interface ProxyInfo {
  /** Envoy node.id; display only, never trusted for identity. */
  readonly id: string;
  readonly kind: ProxyKind;
  readonly namespace: string;
  /** The Service this proxy fronts (inbound listeners for its ports), if any. */
  readonly service?: string;
  readonly labels: Readonly<Record<string, string>>;
  /**
   * True when traffic is captured by iptables (virtual outbound listener with original
   * destination). False for standalone proxies and VMs: an explicit outbound HTTP listener
   * routes on the Host header (usable as http_proxy).
   */
  readonly capture: boolean;
  /** Explicit mode only: the port of the outbound HTTP proxy listener (default MeshPorts.outbound). */
  readonly outboundPort?: number;
  /**
   * Explicit mode only: the port of the inbound listener (0.0.0.0) that fronts `service`.
   * Clients reach this proxy there (it is the endpoint port of the service), and it
   * forwards to the application on 127.0.0.1:<targetPort>. None: no inbound listener.
   */
  readonly inboundPort?: number;
  /**
   * Where the proxy serves Envoy's Prometheus stats (/stats/prometheus) on its own address (the
   * xDS peer's IP): node metadata WEFT_STATS_PORT. Absent: MeshPorts.stats for captured sidecars
   * (the injected bootstrap's stats listener), none otherwise. Read only by the mesh view's
   * scraper; not part of the group key (it changes no configuration).
   */
  readonly statsPort?: number;
  /** SPIFFE identity once authenticated. */
  readonly identity?: string;
  /** Access log and tracing switches from the node metadata (xds/bootstrap/telemetry.ts); absent: both off. */
  readonly telemetry?: ProxyTelemetrySwitches;
  /**
   * The proxy's zone (Envoy node.locality.zone; a sidecar's is its node's
   * topology.kubernetes.io/zone label). Orders endpoints for BackendPolicy zone failover.
   */
  readonly zone?: string;
  /**
   * Egress scope (src/api/egress.ts): the resolved `namespace/service` entries this proxy calls;
   * only their outbound config is sent. Absent: every Service (unscoped). From the bound Pod's
   * `weft.dev/egress` annotation (or its namespace's, or the controller's default) when the
   * credential names a Pod, else node metadata WEFT_EGRESS.
   */
  readonly egress?: readonly string[];
}

export interface ProxyTelemetrySwitches {
  /** The workload's name: the service of its spans. */
  readonly workload?: string;
  /** The identity the proxy's bootstrap claims (display only; the authenticated `identity` wins). */
  readonly identity?: string;
  readonly accessLog: boolean;
  /** Percent of requests traced; set only when the proxy's bootstrap has the OTLP collector cluster. */
  readonly traceSampling?: number;
}

/** The part of a group key telemetry adds ('' when everything is off). */
export function telemetryKey(t: ProxyTelemetrySwitches | undefined): string {
  if (!t || (!t.accessLog && t.traceSampling === undefined)) return '';
  return `log=${t.accessLog};trace=${t.traceSampling ?? ''};wl=${t.workload ?? ''};id=${t.identity ?? ''}`;
}

/** Proxies with equal group keys receive identical configuration, built and encoded once. */
export function proxyGroupKey(p: ProxyInfo): string {
  const labels = Object.keys(p.labels)
    .sort()
    .map((k) => `${k}=${p.labels[k] ?? ''}`)
    .join(',');
  return [
    p.kind,
    p.namespace,
    p.service ?? '',
    p.capture ? 'capture' : `explicit:${p.outboundPort ?? ''}:${p.inboundPort ?? ''}`,
    p.identity ?? '',
    labels,
    p.zone ?? '',
    telemetryKey(p.telemetry),
    // Only scoped proxies add a part, so unscoped group keys stay what they were.
    ...(p.egress === undefined ? [] : [`egress=${p.egress.join(',')}`]),
  ].join('|');
}
