// Mutual TLS building blocks shared by the inbound listeners and the outbound clusters:
// TLS transport sockets whose certificates come over SDS on the ADS stream (the proxy's
// own workload certificate `default` and the trust bundle `ROOTCA`, served per identity
// by the SDS side), the auto-mTLS endpoint marker and the cluster's socket matches.
//
// A peer is accepted when its certificate chains to the trust bundle and carries a URI
// SAN in the proxy's own trust domain (`spiffe://<td>/…`). Nothing here reads the model.
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import type { JsonObject } from '@bufbuild/protobuf';
import { Cluster_TransportSocketMatchSchema, type Cluster_TransportSocketMatch } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { MetadataSchema, TransportSocketSchema, type Metadata, type TransportSocket } from '../gen/envoy/config/core/v3/base_pb.js';
import { RawBufferSchema } from '../gen/envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer_pb.js';
import { SubjectAltNameMatcher_SanType } from '../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import {
  CommonTlsContextSchema,
  DownstreamTlsContextSchema,
  UpstreamTlsContextSchema,
  type CommonTlsContext,
} from '../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { parseSpiffeId } from '../../src/ca/spiffe.ts';
import { TRUST_BUNDLE_SECRET, WORKLOAD_CERT_SECRET } from '../resources/names.ts';
import { adsConfigSource } from './common.ts';

export const TransportSocketName = {
  tls: 'envoy.transport_sockets.tls',
  rawBuffer: 'envoy.transport_sockets.raw_buffer',
} as const;

/** Endpoint metadata namespace Envoy reads for transport_socket_matches. */
export const TRANSPORT_SOCKET_MATCH_KEY = 'envoy.transport_socket_match';
/** The marker on meshed endpoints (CLA metadata) and the cluster match selecting mTLS for them. */
export const MTLS_ENDPOINT_MATCH: Readonly<JsonObject> = Object.freeze({ 'weft.dev/tls': 'mtls' });

/**
 * ALPN a mesh client offers on opaque TCP ports. A PERMISSIVE server tells mesh mTLS from
 * an application's own TLS (an `https` port reached by a client without a sidecar) by it:
 * only connections offering it are terminated; other TLS passes through as bytes.
 */
export const MESH_TCP_ALPN = 'weft-mtls';
/** What an inbound HTTP chain negotiates; the connection manager's AUTO codec follows it. */
export const INBOUND_HTTP_ALPN: readonly string[] = ['h2', 'http/1.1'];

/** The trust domain of a proxy's SPIFFE identity; undefined when it has none (no certificate over SDS). */
export function trustDomainOf(identity: string | undefined): string | undefined {
  if (identity === undefined) return undefined;
  const parsed = parseSpiffeId(identity);
  return parsed.ok ? parsed.identity.trustDomain : undefined;
}

function commonTlsContext(trustDomain: string, alpn: readonly string[]): CommonTlsContext {
  return create(CommonTlsContextSchema, {
    tlsCertificateSdsSecretConfigs: [{ name: WORKLOAD_CERT_SECRET, sdsConfig: adsConfigSource() }],
    validationContextType: {
      case: 'combinedValidationContext',
      value: {
        defaultValidationContext: {
          matchTypedSubjectAltNames: [
            { sanType: SubjectAltNameMatcher_SanType.URI, matcher: { matchPattern: { case: 'prefix', value: `spiffe://${trustDomain}/` } } },
          ],
        },
        validationContextSdsSecretConfig: { name: TRUST_BUNDLE_SECRET, sdsConfig: adsConfigSource() },
      },
    },
    alpnProtocols: [...alpn],
  });
}

/** Server side: TLS with the workload certificate, a client certificate required and validated. */
export function downstreamMtlsSocket(trustDomain: string, alpn: readonly string[]): TransportSocket {
  const ctx = create(DownstreamTlsContextSchema, {
    commonTlsContext: commonTlsContext(trustDomain, alpn),
    requireClientCertificate: true,
  });
  return create(TransportSocketSchema, {
    name: TransportSocketName.tls,
    configType: { case: 'typedConfig', value: anyPack(DownstreamTlsContextSchema, ctx) },
  });
}

/** Client side: originate mTLS with the workload certificate, validating the server's. */
export function upstreamMtlsSocket(trustDomain: string, sni: string, alpn: readonly string[]): TransportSocket {
  const ctx = create(UpstreamTlsContextSchema, { commonTlsContext: commonTlsContext(trustDomain, alpn), sni });
  return create(TransportSocketSchema, {
    name: TransportSocketName.tls,
    configType: { case: 'typedConfig', value: anyPack(UpstreamTlsContextSchema, ctx) },
  });
}

const rawBufferSocket: TransportSocket = create(TransportSocketSchema, {
  name: TransportSocketName.rawBuffer,
  configType: { case: 'typedConfig', value: anyPack(RawBufferSchema, create(RawBufferSchema)) },
});

/**
 * Auto mTLS for one cluster: endpoints marked meshed get mTLS, every other endpoint plain
 * bytes (the empty match is the default; Envoy tries matches in order).
 */
export function autoMtlsSocketMatches(trustDomain: string, sni: string, alpn: readonly string[]): Cluster_TransportSocketMatch[] {
  return [
    create(Cluster_TransportSocketMatchSchema, {
      name: 'mtls',
      match: { ...MTLS_ENDPOINT_MATCH },
      transportSocket: upstreamMtlsSocket(trustDomain, sni, alpn),
    }),
    create(Cluster_TransportSocketMatchSchema, { name: 'plaintext', match: {}, transportSocket: rawBufferSocket }),
  ];
}

/** Metadata of a meshed endpoint in a ClusterLoadAssignment. */
export function meshedEndpointMetadata(): Metadata {
  return create(MetadataSchema, { filterMetadata: { [TRANSPORT_SOCKET_MATCH_KEY]: { ...MTLS_ENDPOINT_MATCH } } });
}
