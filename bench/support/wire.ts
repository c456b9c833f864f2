// Just enough protobuf wire handling for 10,000 simulated proxies on one core: responses
// are read field by field (resources stay undecoded bytes), the names a proxy must
// subscribe to next are decoded once per response version and shared, and requests are
// encoded once per (type, version, names) with the per-stream nonce appended — the same
// trick the server uses for responses.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { ClusterSchema, Cluster_DiscoveryType } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Node } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { HttpConnectionManagerSchema } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { DiscoveryRequestSchema } from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';

export const CDS = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const EDS = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
export const LDS = 'type.googleapis.com/envoy.config.listener.v3.Listener';
export const RDS = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

export interface RawResponse {
  readonly versionInfo: string;
  readonly typeUrl: string;
  readonly nonce: string;
  /** The `value` of each resource Any (sub-arrays of the response buffer). */
  readonly resources: readonly Uint8Array[];
}

/** DiscoveryResponse: version_info 1, resources 2 (Any: type_url 1, value 2), type_url 4, nonce 5. */
export function readResponse(buf: Uint8Array): RawResponse {
  const r = new BinaryReader(buf);
  let versionInfo = '';
  let typeUrl = '';
  let nonce = '';
  const resources: Uint8Array[] = [];
  while (r.pos < r.len) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === WireType.LengthDelimited) versionInfo = r.string();
    else if (field === 4 && wt === WireType.LengthDelimited) typeUrl = r.string();
    else if (field === 5 && wt === WireType.LengthDelimited) nonce = r.string();
    else if (field === 2 && wt === WireType.LengthDelimited) resources.push(anyValue(r.bytes()));
    else r.skip(wt, field);
  }
  return { versionInfo, typeUrl, nonce, resources };
}

function anyValue(any: Uint8Array): Uint8Array {
  const r = new BinaryReader(any);
  while (r.pos < r.len) {
    const [field, wt] = r.tag();
    if (field === 2 && wt === WireType.LengthDelimited) return r.bytes();
    r.skip(wt, field);
  }
  return new Uint8Array(0);
}

/** What a CDS/LDS response makes a proxy subscribe to next, per response version. */
const followUps = new Map<string, readonly string[]>();

/** EDS names of a (full-state) CDS response: service_name, else the cluster's name. */
export function edsNamesOf(res: RawResponse): readonly string[] {
  return memo(res, () =>
    res.resources.flatMap((bytes) => {
      const c = fromBinary(ClusterSchema, bytes);
      const t = c.clusterDiscoveryType;
      return t.case === 'type' && t.value === Cluster_DiscoveryType.EDS ? [c.edsClusterConfig?.serviceName || c.name] : [];
    }),
  );
}

/** RDS names of a (full-state) LDS response: every HCM's rds.route_config_name. */
export function routeNamesOf(res: RawResponse): readonly string[] {
  return memo(res, () => res.resources.flatMap((bytes) => rdsNames(fromBinary(ListenerSchema, bytes))));
}

function rdsNames(l: Listener): string[] {
  const hcms = [...l.filterChains, ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])].flatMap((fc) =>
    fc.filters.flatMap((f) => (f.configType.case === 'typedConfig' && f.configType.value.typeUrl === HCM_TYPE ? [f.configType.value.value] : [])),
  );
  if (l.apiListener?.apiListener?.typeUrl === HCM_TYPE) hcms.push(l.apiListener.apiListener.value);
  return hcms.flatMap((b) => {
    const spec = fromBinary(HttpConnectionManagerSchema, b).routeSpecifier;
    return spec.case === 'rds' ? [spec.value.routeConfigName] : [];
  });
}

function memo(res: RawResponse, compute: () => string[]): readonly string[] {
  const key = `${res.typeUrl}|${res.versionInfo}`;
  let names = followUps.get(key);
  if (names === undefined) {
    names = Object.freeze([...new Set(compute())].sort());
    followUps.set(key, names);
  }
  return names;
}

/** DiscoveryRequest.response_nonce is field 5, like the response's nonce. */
const NONCE_TAG = (5 << 3) | 2;
const bodies = new WeakMap<readonly string[], Map<string, Uint8Array>>();

/** A request without node: body memoized per (names array, type, version), nonce appended. */
export function requestBytes(typeUrl: string, versionInfo: string, names: readonly string[], nonce: string): Uint8Array {
  let byKey = bodies.get(names);
  if (byKey === undefined) bodies.set(names, (byKey = new Map()));
  const key = `${typeUrl}|${versionInfo}`;
  let body = byKey.get(key);
  if (body === undefined) {
    body = toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl, versionInfo, resourceNames: [...names] }));
    byKey.set(key, body);
  }
  const n = Buffer.from(nonce, 'utf8');
  const out = Buffer.allocUnsafe(body.length + 2 + n.length);
  out.set(body, 0);
  out[body.length] = NONCE_TAG;
  if (n.length > 127) throw new Error('nonce longer than 127 bytes');
  out[body.length + 1] = n.length;
  out.set(n, body.length + 2);
  return out;
}

/** The first request of a stream: carries the node. */
export function firstRequestBytes(node: Node, typeUrl: string): Uint8Array {
  return toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { node, typeUrl }));
}
