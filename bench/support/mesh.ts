// The benchmark's mesh: `namespaces` × `servicesPerNamespace` Services with two ports each
// (http 8080, grpc 9090), an EndpointSlice per Service, a TrafficSplit and a RetryPolicy
// per namespace — validated through parseObject like any source's output. Mutations
// return a new object list (config levels, not events).
import { objectId, parseObject, type ConfigObject } from '../../src/api/objects.ts';
import type { ConfigState } from '../../src/sources/source.ts';
import { compareStrings } from '../../src/base/order.ts';

export interface MeshShape {
  readonly namespaces: number;
  readonly servicesPerNamespace: number;
  readonly endpointsPerService: number;
}

export const DEFAULT_SHAPE: MeshShape = { namespaces: 10, servicesPerNamespace: 5, endpointsPerService: 4 };

export const namespaceName = (n: number): string => `ns-${String(n).padStart(2, '0')}`;
export const serviceName = (s: number): string => `svc-${s}`;

/** The config change the benchmark measures; each applies on top of the previous state. */
export type Mutation = 'split' | 'endpoints';

/** What a mutation changes for every proxy, so clients know which type's ACK to time. */
export const mutationTypeUrl: Record<Mutation, string> = {
  split: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  endpoints: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
};

interface Counters {
  /** Weight of svc-2 in ns-00's split (svc-0 → svc-1/svc-2). */
  splitWeight: number;
  /** Extra endpoints of ns-00/svc-1. */
  extraEndpoints: number;
}

function service(ns: string, name: string, ip: string): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      clusterIP: ip,
      selector: { app: name },
      ports: [
        { name: 'http', port: 8080, targetPort: 'http' },
        { name: 'grpc', port: 9090, targetPort: 'grpc', appProtocol: 'grpc' },
      ],
    },
  };
}

function slice(ns: string, name: string, ips: string[]): unknown {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-abcde`, namespace: ns, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: [
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'grpc', port: 9090, protocol: 'TCP' },
    ],
    endpoints: ips.map((ip, i) => ({
      addresses: [ip],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', name: `${name}-pod-${i}`, namespace: ns },
    })),
  };
}

function split(ns: string, v2Weight: number): unknown {
  return {
    apiVersion: 'mesh.weft.dev/v1alpha1',
    kind: 'TrafficSplit',
    metadata: { name: 'svc-0-canary', namespace: ns },
    spec: {
      service: 'svc-0',
      backends: [
        { service: 'svc-1', weight: 100 - v2Weight },
        { service: 'svc-2', weight: v2Weight },
      ],
    },
  };
}

function retry(ns: string, target: string): unknown {
  return {
    apiVersion: 'mesh.weft.dev/v1alpha1',
    kind: 'RetryPolicy',
    metadata: { name: `${target}-retries`, namespace: ns },
    spec: {
      targetRef: { kind: 'Service', name: target },
      attempts: 3,
      perTryTimeout: '1s',
      timeout: '5s',
      retryOn: ['5xx', 'connect-failure', 'reset'],
      backoff: { baseInterval: '25ms', maxInterval: '250ms' },
      budget: { percent: 20, minRetryConcurrency: 3 },
      exemptPaths: ['/healthz'],
      outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
    },
  };
}

function documents(shape: MeshShape, c: Counters): unknown[] {
  const docs: unknown[] = [];
  for (let n = 0; n < shape.namespaces; n++) {
    const ns = namespaceName(n);
    for (let s = 0; s < shape.servicesPerNamespace; s++) {
      const name = serviceName(s);
      docs.push(service(ns, name, `10.96.${n}.${s + 1}`));
      const extra = n === 0 && s === 1 ? c.extraEndpoints : 0;
      const ips = Array.from({ length: shape.endpointsPerService + extra }, (_, i) => `10.${100 + n}.${s}.${i + 1}`);
      docs.push(slice(ns, name, ips));
    }
    if (shape.servicesPerNamespace >= 3) docs.push(split(ns, n === 0 ? c.splitWeight : 10));
    if (shape.servicesPerNamespace >= 4) docs.push(retry(ns, serviceName(3)));
  }
  return docs;
}

function validated(docs: unknown[]): ConfigObject[] {
  const objects = docs.map((d, i) => {
    const r = parseObject(d);
    if (!r.ok) throw new Error(`bench mesh document ${i} is invalid: ${JSON.stringify(r.problems)}`);
    return r.object;
  });
  return objects.sort((a, b) => compareStrings(objectId(a), objectId(b)));
}

/** The mesh and its mutations: each `mutate` returns the next complete state. */
export class BenchMesh {
  readonly shape: MeshShape;
  readonly #c: Counters = { splitWeight: 10, extraEndpoints: 0 };

  constructor(shape: MeshShape) {
    this.shape = shape;
  }

  state(): ConfigState {
    return { objects: validated(documents(this.shape, this.#c)), problems: [] };
  }

  mutate(m: Mutation): ConfigState {
    if (m === 'split') this.#c.splitWeight = this.#c.splitWeight === 10 ? 50 : 10;
    else this.#c.extraEndpoints += 1;
    return this.state();
  }

  /** Service names per namespace, for proxies to front. */
  get services(): number {
    return this.shape.namespaces * this.shape.servicesPerNamespace;
  }
}
