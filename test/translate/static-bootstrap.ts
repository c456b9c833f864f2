// A translated ResourceSet as a self-contained static Envoy bootstrap, for tests that run
// a real Envoy without an ADS server: EDS clusters become STATIC with their CLA, RDS
// becomes the inline route config, and route configs no listener references (proxyless)
// get a validation-only listener each. Everything else is exactly what translate built.
import { clone, create, toJson } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import YAML from 'yaml';
import { BootstrapSchema } from '../../xds/gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { ClusterSchema, Cluster_DiscoveryType, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { FilterChain } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import type { RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { HttpConnectionManagerSchema } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { envoyRegistry } from '../../xds/resources/registry.ts';
import { hcmFilter, socketAddress } from '../../xds/translate/common.ts';
import type { ResourceSet } from '../../xds/translate/types.ts';

function staticCluster(c: Cluster, set: ResourceSet): Cluster {
  if (c.clusterDiscoveryType.case !== 'type' || c.clusterDiscoveryType.value !== Cluster_DiscoveryType.EDS) return c;
  const out = clone(ClusterSchema, c);
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

function staticListeners(set: ResourceSet): Listener[] {
  const routes = new Map(set.routes.map((r) => [r.name, r]));
  const used = new Set<string>();
  const out = set.listeners
    .filter((l) => !l.apiListener)
    .map((l) => {
      const copy = clone(ListenerSchema, l);
      for (const chain of [...copy.filterChains, ...(copy.defaultFilterChain ? [copy.defaultFilterChain] : [])]) {
        inlineChain(chain, routes, used);
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
}

/** Snake_case YAML (what test/support/envoy.ts expects of a bootstrap). */
export function staticBootstrapYaml(set: ResourceSet, opts: StaticOptions = {}): string {
  const bootstrap = create(BootstrapSchema, {
    node: { id: 'validate', cluster: 'validate' },
    admin: { address: socketAddress('127.0.0.1', 0) },
    staticResources: {
      clusters: set.clusters.map((c) => staticCluster(c, set)),
      listeners: staticListeners(set).map((l) => {
        const port = opts.listenerPorts?.[l.name];
        if (port !== undefined) l.address = socketAddress('127.0.0.1', port);
        return l;
      }),
    },
  });
  return YAML.stringify(toJson(BootstrapSchema, bootstrap, { registry: envoyRegistry, useProtoFieldName: true }), { lineWidth: 0 });
}

