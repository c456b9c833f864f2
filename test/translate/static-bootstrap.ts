// A translated ResourceSet as a self-contained static Envoy bootstrap, for tests that run
// a real Envoy without an ADS server: EDS clusters become STATIC with their CLA, RDS
// becomes the inline route config, and route configs no listener references (proxyless)
// get a validation-only listener each, and SDS secret references (`sds_config: ads`)
// become references to static secrets the caller supplies (e.g. test-secrets.ts).
// Everything else is exactly what translate built.
import { clone, create, toJson } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import YAML from 'yaml';
import { BootstrapSchema } from '../../xds/gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { ClusterSchema, Cluster_DiscoveryType, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { FilterChain } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import type { RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import type { TransportSocket } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { HttpConnectionManagerSchema } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { Secret } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { DownstreamTlsContextSchema, UpstreamTlsContextSchema, type CommonTlsContext } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { envoyRegistry } from '../../xds/resources/registry.ts';
import { hcmFilter, socketAddress } from '../../xds/translate/common.ts';
import type { ResourceSet } from '../../xds/translate/types.ts';

/** Drops sds_config from every secret reference (a name alone means a static secret), collecting the names. */
function staticSds(ctx: CommonTlsContext | undefined, used: Set<string>): void {
  if (!ctx) return;
  for (const ref of ctx.tlsCertificateSdsSecretConfigs) {
    ref.sdsConfig = undefined;
    used.add(ref.name);
  }
  const v = ctx.validationContextType;
  const ref =
    v.case === 'combinedValidationContext' ? v.value.validationContextSdsSecretConfig : v.case === 'validationContextSdsSecretConfig' ? v.value : undefined;
  if (ref) {
    ref.sdsConfig = undefined;
    used.add(ref.name);
  }
}

function staticSocket(socket: TransportSocket | undefined, used: Set<string>): void {
  if (socket?.configType.case !== 'typedConfig') return;
  const any = socket.configType.value;
  const up = anyUnpack(any, UpstreamTlsContextSchema);
  if (up) {
    staticSds(up.commonTlsContext, used);
    socket.configType = { case: 'typedConfig', value: anyPack(UpstreamTlsContextSchema, up) };
  }
  const down = anyUnpack(any, DownstreamTlsContextSchema);
  if (down) {
    staticSds(down.commonTlsContext, used);
    socket.configType = { case: 'typedConfig', value: anyPack(DownstreamTlsContextSchema, down) };
  }
}

function staticCluster(c: Cluster, set: ResourceSet, secretsUsed: Set<string>): Cluster {
  const out = clone(ClusterSchema, c);
  staticSocket(out.transportSocket, secretsUsed);
  for (const m of out.transportSocketMatches) staticSocket(m.transportSocket, secretsUsed);
  if (c.clusterDiscoveryType.case !== 'type' || c.clusterDiscoveryType.value !== Cluster_DiscoveryType.EDS) return out;
  out.clusterDiscoveryType = { case: 'type', value: Cluster_DiscoveryType.STATIC };
  out.edsClusterConfig = undefined;
  out.loadAssignment = set.endpoints.find((e) => e.clusterName === c.name);
  return out;
}

function inlineChain(chain: FilterChain, routes: ReadonlyMap<string, RouteConfiguration>, used: Set<string>): void {
  for (const f of chain.filters) {
    if (f.configType.case !== 'typedConfig') continue;
    const hcm = anyUnpack(f.configType.value, HttpConnectionManagerSchema);
    if (!hcm || hcm.routeSpecifier.case !== 'rds') continue;
    const rc = routes.get(hcm.routeSpecifier.value.routeConfigName);
    if (!rc) throw new Error(`route config ${hcm.routeSpecifier.value.routeConfigName} missing`);
    used.add(rc.name);
    hcm.routeSpecifier = { case: 'routeConfig', value: rc };
    f.configType = { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) };
  }
}

function staticListeners(set: ResourceSet, secretsUsed: Set<string>): Listener[] {
  const routes = new Map(set.routes.map((r) => [r.name, r]));
  const used = new Set<string>();
  const out = set.listeners
    .filter((l) => !l.apiListener)
    .map((l) => {
      const copy = clone(ListenerSchema, l);
      for (const chain of [...copy.filterChains, ...(copy.defaultFilterChain ? [copy.defaultFilterChain] : [])]) {
        inlineChain(chain, routes, used);
        staticSocket(chain.transportSocket, secretsUsed);
      }
      return copy;
    });
  set.routes
    .filter((r) => !used.has(r.name))
    .forEach((r, i) => {
      out.push(
        create(ListenerSchema, {
          name: `validate_${r.name}`,
          address: socketAddress('127.0.0.1', 20_000 + i),
          bindToPort: false,
          filterChains: [{ filters: [hcmFilter({ statPrefix: `validate_${i}`, routes: { inline: r } })] }],
        }),
      );
    });
  return out;
}

export interface StaticOptions {
  /** Move listeners to other ports (by listener name), e.g. off the fixed 15001. */
  readonly listenerPorts?: Readonly<Record<string, number>>;
  /** Static secrets for the SDS references (required when the set references any). */
  readonly secrets?: readonly Secret[];
  /** Node id (shows in logs and the admin page). */
  readonly nodeId?: string;
}

/** Snake_case YAML (what test/support/envoy.ts expects of a bootstrap). */
export function staticBootstrapYaml(set: ResourceSet, opts: StaticOptions = {}): string {
  const secretsUsed = new Set<string>();
  const clusters = set.clusters.map((c) => staticCluster(c, set, secretsUsed));
  const listeners = staticListeners(set, secretsUsed).map((l) => {
    const port = opts.listenerPorts?.[l.name];
    if (port !== undefined) l.address = socketAddress('127.0.0.1', port);
    return l;
  });
  const secrets = opts.secrets ?? [];
  const missing = [...secretsUsed].filter((n) => !secrets.some((s) => s.name === n));
  if (missing.length > 0) throw new Error(`static bootstrap: SDS secrets ${missing.join(', ')} referenced but not supplied (opts.secrets)`);
  const bootstrap = create(BootstrapSchema, {
    node: { id: opts.nodeId ?? 'validate', cluster: 'validate' },
    admin: { address: socketAddress('127.0.0.1', 0) },
    staticResources: { clusters, listeners, secrets: [...secrets] },
  });
  return YAML.stringify(toJson(BootstrapSchema, bootstrap, { registry: envoyRegistry, useProtoFieldName: true }), { lineWidth: 0 });
}
