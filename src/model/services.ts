// Services joined with their EndpointSlices: one MeshService per Service, each port
// carrying the endpoints that serve it.
import type { EndpointSliceObject, ServiceObject } from '../api/objects.ts';
import { SERVICE_NAME_LABEL } from '../api/objects.ts';
import { compareStrings } from '../base/order.ts';
import type { EndpointAddress, MeshService, ObjectKey, ServicePort } from './types.ts';

type AppProtocol = ServicePort['appProtocol'];
type SpecPort = ServiceObject['spec']['ports'][number];
type SlicePort = EndpointSliceObject['ports'][number];

const APP_PROTOCOL_VALUES: Readonly<Record<string, AppProtocol>> = {
  http: 'http',
  'kubernetes.io/ws': 'http',
  http2: 'http2',
  h2c: 'http2',
  'kubernetes.io/h2c': 'http2',
  grpc: 'grpc',
  tcp: 'tcp',
  tls: 'tcp', // TLS we cannot see into is forwarded as opaque TCP
  https: 'tcp',
  'kubernetes.io/wss': 'tcp',
};
// Istio-style port name prefixes, most specific first (`http2` before `http`).
const NAME_PREFIXES: readonly (readonly [string, AppProtocol])[] = [
  ['grpc', 'grpc'],
  ['http2', 'http2'],
  ['https', 'tcp'],
  ['http', 'http'],
  ['tcp', 'tcp'],
  ['tls', 'tcp'],
];

/** The protocol a TCP port's appProtocol or name declares; undefined when neither says (HTTP is assumed). */
export function declaredAppProtocol(port: { name?: string; appProtocol?: string }): AppProtocol | undefined {
  const declared = port.appProtocol === undefined ? undefined : APP_PROTOCOL_VALUES[port.appProtocol.toLowerCase()];
  if (declared) return declared;
  const name = port.name ?? '';
  return NAME_PREFIXES.find(([prefix]) => name === prefix || name.startsWith(`${prefix}-`))?.[1];
}

export function appProtocolOf(port: { name?: string; protocol: string; appProtocol?: string }): AppProtocol {
  if (port.protocol !== 'TCP') return 'tcp'; // UDP/SCTP are never HTTP; translation checks `protocol`
  return declaredAppProtocol(port) ?? 'http';
}

/** Slice ports carry the service port's name; hand-written unnamed ones match by target number. */
function slicePortServes(sp: SpecPort, ep: SlicePort): boolean {
  if ((ep.protocol ?? 'TCP') !== sp.protocol || ep.port === null || ep.port === undefined) return false;
  const epName = ep.name ?? '';
  const spName = sp.name ?? '';
  if (epName !== '') return epName === spName;
  if (spName === '') return true;
  return ep.port === (sp.targetPort ?? sp.port);
}

function endpointsFor(sp: SpecPort, slices: readonly EndpointSliceObject[]): EndpointAddress[] {
  const byAddress = new Map<string, EndpointAddress>();
  for (const slice of slices) {
    if (slice.addressType === 'FQDN') continue; // Envoy endpoints need IPs
    const port = slice.ports.find((p) => slicePortServes(sp, p))?.port;
    if (port === null || port === undefined) continue;
    for (const ep of slice.endpoints) {
      // Addresses of one endpoint are fungible; consumers use the first (API docs).
      const address = ep.addresses[0];
      if (address === undefined) continue;
      const ready = ep.conditions?.ready !== false;
      const key = `${address}|${port}`;
      const seen = byAddress.get(key);
      if (seen) {
        // The same endpoint in two slices (mid-move): ready if either says so.
        if (ready && !seen.ready) byAddress.set(key, { ...seen, ready });
        continue;
      }
      byAddress.set(key, {
        address,
        port,
        ready,
        ...(ep.targetRef?.name ? { workload: ep.targetRef.name } : {}),
        ...(ep.zone ? { zone: ep.zone } : {}),
      });
    }
  }
  return [...byAddress.values()].sort((a, b) => compareStrings(a.address, b.address) || a.port - b.port);
}

export function serviceKey(namespace: string, name: string): ObjectKey {
  return `${namespace}/${name}`;
}

/** MeshServices by key, sorted by key; split and retry are attached later. */
export function buildServices(services: readonly ServiceObject[], slices: readonly EndpointSliceObject[]): Map<ObjectKey, MeshService> {
  const slicesByService = new Map<ObjectKey, EndpointSliceObject[]>();
  for (const slice of slices) {
    const owner = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!owner) continue;
    const key = serviceKey(slice.metadata.namespace, owner);
    slicesByService.set(key, [...(slicesByService.get(key) ?? []), slice]);
  }
  const out: [ObjectKey, MeshService][] = [];
  for (const svc of services) {
    const key = serviceKey(svc.metadata.namespace, svc.metadata.name);
    const mine = (slicesByService.get(key) ?? []).sort((a, b) => compareStrings(a.metadata.name, b.metadata.name));
    const ports: ServicePort[] = svc.spec.ports
      .map((sp) => ({
        name: sp.name ?? '',
        port: sp.port,
        targetPort: sp.targetPort ?? sp.port,
        protocol: sp.protocol,
        appProtocol: appProtocolOf(sp),
        endpoints: endpointsFor(sp, mine),
      }))
      .sort((a, b) => a.port - b.port || compareStrings(a.protocol, b.protocol));
    const clusterIP = svc.spec.clusterIP;
    out.push([
      key,
      {
        namespace: svc.metadata.namespace,
        name: svc.metadata.name,
        // Headless ('None') has no virtual IP to listen on.
        ...(clusterIP && clusterIP !== 'None' ? { clusterIP } : {}),
        ...(svc.spec.selector ? { selector: svc.spec.selector } : {}),
        ports,
      },
    ]);
  }
  out.sort(([a], [b]) => compareStrings(a, b));
  return new Map(out);
}
