// The test's own (admin) view of the API server, through the same KubeClient the
// controller uses: create/get/patch/delete by kind, readable object builders, and
// waiting for a condition on an object's status.
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpMethod, type KubeConfig } from '@kubernetes/client-node';
import { KubeApiError, KubeClient, loadKubeConfig } from '../../../src/k8s/client.ts';
import { Resources, collectionPath, namespacedCollectionPath, objectPath, type ResourceRef } from '../../../src/k8s/resources.ts';

type Kind = keyof typeof Resources;
export interface KubeObject {
  apiVersion?: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    generation?: number;
    resourceVersion?: string;
    managedFields?: { manager: string; operation: string; subresource?: string; time?: string }[];
  };
  spec?: unknown;
  status?: { observedGeneration?: number; conditions?: ConditionJson[] };
  [k: string]: unknown;
}
export interface ConditionJson {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export class Api {
  readonly client: KubeClient;
  /** `server` overrides the kubeconfig's API server URL (e.g. a second API server). */
  constructor(kubeconfig: string, server?: string) {
    this.client = new KubeClient(kubeConfigFor(kubeconfig, server));
  }

  #ref(kind: string): ResourceRef {
    const r = (Resources as Record<string, ResourceRef>)[kind];
    if (!r) throw new Error(`unknown kind ${kind}`);
    return r;
  }

  create(obj: KubeObject): Promise<KubeObject> {
    const r = this.#ref(obj.kind);
    const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
    const path = r.namespaced ? namespacedCollectionPath(r, obj.metadata.namespace ?? 'default') : collectionPath(r);
    return this.client.request(HttpMethod.POST, path, { body: { apiVersion, ...obj } });
  }

  get(kind: Kind, namespace: string, name: string): Promise<KubeObject> {
    return this.client.request(HttpMethod.GET, objectPath(this.#ref(kind), namespace, name));
  }

  /** JSON merge patch of the object (not its status). */
  patch(kind: Kind, namespace: string, name: string, patch: unknown): Promise<KubeObject> {
    return this.client.request(HttpMethod.PATCH, objectPath(this.#ref(kind), namespace, name), { body: patch, contentType: 'application/merge-patch+json' });
  }

  async delete(kind: Kind, namespace: string, name: string): Promise<void> {
    try {
      await this.client.request(HttpMethod.DELETE, objectPath(this.#ref(kind), namespace, name));
    } catch (err) {
      if (!(err instanceof KubeApiError && err.statusCode === 404)) throw err;
    }
  }

  /** Polls the object until `check` passes; returns it. */
  async waitFor(kind: Kind, namespace: string, name: string, check: (o: KubeObject) => boolean, timeoutMs = 20_000): Promise<KubeObject> {
    const deadline = Date.now() + timeoutMs;
    let last: KubeObject | undefined;
    for (;;) {
      last = await this.get(kind, namespace, name).catch(() => undefined);
      if (last && check(last)) return last;
      if (Date.now() > deadline) throw new Error(`${kind} ${namespace}/${name} did not reach the expected state; last status: ${JSON.stringify(last?.status)}`);
      await sleep(150);
    }
  }
}

export function kubeConfigFor(kubeconfig: string, server?: string): KubeConfig {
  const kc = loadKubeConfig(kubeconfig);
  if (server !== undefined) {
    const current = kc.getCurrentCluster()!.name;
    kc.clusters = kc.clusters.map((c) => (c.name === current ? { ...c, server } : c));
  }
  return kc;
}

export function cond(o: KubeObject, type: string): ConditionJson | undefined {
  return o.status?.conditions?.find((c) => c.type === type);
}

/** True when the condition has this status (and reason, if given) for the current generation. */
export function hasCond(o: KubeObject, type: string, status: string, reason?: string): boolean {
  const c = cond(o, type);
  return c?.status === status && (reason === undefined || c.reason === reason) && o.status?.observedGeneration === o.metadata.generation;
}

// --- builders ---------------------------------------------------------------------------

export function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { kind: 'Namespace', metadata: { name, labels } };
}

export function service(ns: string, name: string, port = 80, targetPort = 8080): KubeObject {
  return { kind: 'Service', metadata: { name, namespace: ns }, spec: { ports: [{ name: 'http', port, targetPort, protocol: 'TCP' }] } };
}

export function endpointSlice(ns: string, svc: string, addresses: readonly string[], port = 8080): KubeObject {
  return {
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-e2e`, namespace: ns, labels: { 'kubernetes.io/service-name': svc, 'endpointslice.kubernetes.io/managed-by': 'e2e.weft.dev' } },
    addressType: 'IPv4',
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
    ports: [{ name: 'http', port, protocol: 'TCP' }],
  };
}

export function trafficSplit(ns: string, name: string, root: string, backends: Record<string, number>): KubeObject {
  return {
    kind: 'TrafficSplit',
    metadata: { name, namespace: ns },
    spec: { service: root, backends: Object.entries(backends).map(([service, weight]) => ({ service, weight })) },
  };
}

export function retryPolicy(ns: string, name: string, target: string, attempts = 3): KubeObject {
  return {
    kind: 'RetryPolicy',
    metadata: { name, namespace: ns },
    spec: { targetRef: { kind: 'Service', name: target }, attempts, perTryTimeout: '2s', timeout: '10s', retryOn: ['5xx', 'connect-failure'] },
  };
}

export function peerAuth(ns: string, name: string, mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE'): KubeObject {
  return { kind: 'PeerAuth', metadata: { name, namespace: ns }, spec: { mtls: { mode } } };
}

export const clusterName = (ns: string, svc: string, port = 80): string => `outbound|${port}||${svc}.${ns}.svc.cluster.local`;
