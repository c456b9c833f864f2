// Proxyless clients run grpc-js-xds's own resource validation (gRFC A27/A28 rules, which
// are stricter than Envoy in places: a locality group needs `locality` and a weight,
// num_retries must be ≥ 1, only prefix/path/safe_regex path matchers). Every proxyless
// translation is decoded by those validators exactly as a client would on receipt.
import { create, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { createRequire } from 'node:module';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { translate } from '../../xds/translate/index.ts';
import { proxylessClient } from './fixtures.ts';
import { loadScenario } from './support.ts';

// grpc-js-xds exports no validation API; its resource types are the code a client runs.
const require = createRequire(import.meta.url);
interface Decoded {
  readonly name: string;
  readonly error?: string;
}
interface ResourceType {
  get(): { decode(ctx: unknown, resource: { type_url: string; value: Buffer }): Decoded };
}
const load = (file: string, name: string) =>
  (require(`@grpc/grpc-js-xds/build/src/xds-resource-type/${file}`) as Record<string, ResourceType>)[name] as ResourceType;
(require('@grpc/grpc-js-xds') as { register(): void }).register(); // registers the router filter
const Listener = load('listener-resource-type.js', 'ListenerResourceType');
const Route = load('route-config-resource-type.js', 'RouteConfigurationResourceType');
const Cluster = load('cluster-resource-type.js', 'ClusterResourceType');
const Endpoint = load('endpoint-resource-type.js', 'EndpointResourceType');
const context = { server: {}, bootstrap: { certificateProviders: {} } };

function errors<D extends DescMessage>(type: ResourceType, url: string, schema: D, list: readonly MessageShape<D>[]): string[] {
  return list
    .map((m) => type.get().decode(context, { type_url: url, value: Buffer.from(toBinary(schema, m)) }))
    .filter((d) => d.error !== undefined)
    .map((d) => `${d.name}: ${d.error}`);
}

const root = fileURLToPath(new URL('./golden', import.meta.url));
const scenarios = readdirSync(root)
  .filter((d) => statSync(join(root, d)).isDirectory())
  .sort();

describe('grpc-js-xds accepts what a proxyless client receives', () => {
  it('is a live validator (rejects a locality group without locality)', () => {
    const bad = create(ClusterLoadAssignmentSchema, { clusterName: 'x', endpoints: [{ lbEndpoints: [] }] });
    expect(errors(Endpoint, TypeUrl.Endpoint, ClusterLoadAssignmentSchema, [bad])).toEqual([
      'x: ClusterLoadAssignment message validation failed: [endpoints[0].locality unset]',
    ]);
  });

  // Every scenario's model, seen by a proxyless client in the scenario proxy's namespace.
  for (const name of scenarios) {
    it(name, () => {
      const { model, proxy } = loadScenario(join(root, name));
      const set = translate(model, proxylessClient(proxy.namespace));
      expect([
        ...errors(Listener, TypeUrl.Listener, ListenerSchema, set.listeners),
        ...errors(Route, TypeUrl.Route, RouteConfigurationSchema, set.routes),
        ...errors(Cluster, TypeUrl.Cluster, ClusterSchema, set.clusters),
        ...errors(Endpoint, TypeUrl.Endpoint, ClusterLoadAssignmentSchema, set.endpoints),
      ]).toEqual([]);
    });
  }
});
