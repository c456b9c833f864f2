// The xDS bootstrap a proxyless gRPC client (@grpc/grpc-js-xds, grpc-go, grpc-java) reads
// from GRPC_XDS_BOOTSTRAP (a file) or GRPC_XDS_BOOTSTRAP_CONFIG (the JSON itself), once per
// process. Weft selects configuration by the node metadata: the caller's namespace (which
// short host names resolve) and its kind (API listeners instead of sidecar listeners).

export interface ProxylessBootstrapOptions {
  /** host:port of Weft's xDS server (plaintext: loopback only). */
  readonly xdsAddress: string;
  readonly nodeId: string;
  /** The caller's namespace: `greeter` resolves to `greeter.<namespace>`. */
  readonly namespace: string;
}

export interface ProxylessBootstrap {
  readonly xds_servers: readonly {
    readonly server_uri: string;
    readonly channel_creds: readonly { readonly type: string }[];
    readonly server_features: readonly string[];
  }[];
  readonly node: {
    readonly id: string;
    /** grpc-js-xds refuses a node without a locality (it may be empty). */
    readonly locality: Readonly<Record<string, string>>;
    readonly metadata: Readonly<Record<string, string>>;
  };
}

export function proxylessBootstrap(opts: ProxylessBootstrapOptions): ProxylessBootstrap {
  return {
    xds_servers: [{ server_uri: opts.xdsAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: {
      id: opts.nodeId,
      locality: {},
      metadata: { WEFT_NAMESPACE: opts.namespace, WEFT_PROXY_KIND: 'proxyless' },
    },
  };
}
