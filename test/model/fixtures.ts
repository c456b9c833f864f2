// Readable builders for config objects. Each goes through parseObject, so fixtures get
// the same defaults real documents get and a typo in a fixture fails loudly.
import { parseObject, type ConfigObject } from '../../src/api/objects.ts';

export function must(raw: unknown): ConfigObject {
  const res = parseObject(raw);
  if (!res.ok) throw new Error(`fixture invalid: ${JSON.stringify(res.problems)}`);
  return res.object;
}

interface Meta {
  ns?: string;
  created?: string;
  generation?: number;
}
const meta = (name: string, m: Meta = {}) => ({
  name,
  namespace: m.ns ?? 'shop',
  ...(m.created ? { creationTimestamp: m.created } : {}),
  ...(m.generation === undefined ? {} : { generation: m.generation }),
});

export type PortSpec = { name?: string; port: number; targetPort?: number | string; appProtocol?: string; protocol?: string };

export function service(
  name: string,
  ports: PortSpec[] = [{ name: 'http', port: 8080 }],
  m: Meta & { selector?: Record<string, string>; clusterIP?: string } = {},
): ConfigObject {
  const spec = { ports, ...(m.selector ? { selector: m.selector } : {}), ...(m.clusterIP ? { clusterIP: m.clusterIP } : {}) };
  return must({ apiVersion: 'v1', kind: 'Service', metadata: meta(name, m), spec });
}

export interface EndpointSpec {
  ip: string;
  ready?: boolean;
  pod?: string;
  zone?: string;
}
export function slice(
  name: string,
  svc: string,
  ports: { name?: string; port: number; protocol?: string }[],
  endpoints: EndpointSpec[],
  m: Meta & { addressType?: string } = {},
): ConfigObject {
  return must({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { ...meta(name, m), labels: { 'kubernetes.io/service-name': svc } },
    addressType: m.addressType ?? 'IPv4',
    ports,
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }),
      ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod } } : {}),
      ...(e.zone ? { zone: e.zone } : {}),
    })),
  });
}

export function split(name: string, root: string, backends: Record<string, number>, m: Meta & { matches?: unknown[] } = {}): ConfigObject {
  return must({
    apiVersion: 'mesh.weft.dev/v1alpha1',
    kind: 'TrafficSplit',
    metadata: meta(name, m),
    spec: { service: root, backends: Object.entries(backends).map(([service, weight]) => ({ service, weight })), ...(m.matches ? { matches: m.matches } : {}) },
  });
}

export function retry(name: string, target: string, spec: Record<string, unknown> = {}, m: Meta = {}): ConfigObject {
  return must({
    apiVersion: 'mesh.weft.dev/v1alpha1',
    kind: 'RetryPolicy',
    metadata: meta(name, m),
    spec: { targetRef: { kind: 'Service', name: target }, ...spec },
  });
}

export function peerAuth(name: string, spec: Record<string, unknown>, m: Meta = {}): ConfigObject {
  return must({ apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'PeerAuth', metadata: meta(name, m), spec });
}
