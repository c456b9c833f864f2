// Auto mTLS, the client half: which endpoints accept mutual TLS. An endpoint is meshed
// when its workload runs a sidecar AND that workload's effective PeerAuth mode on the
// endpoint's port is not DISABLE; translation originates mTLS to meshed endpoints only.
//
// Where "runs a sidecar" and "the workload's labels" come from, most precise first:
//   1. WorkloadFacts for the endpoint's Pod (Kubernetes source: the Pod's labels, and the
//      injection status annotation `weft.dev/status`);
//   2. the Service annotation `weft.dev/mtls: "true"` (file source, VMs): every endpoint
//      runs a sidecar, and the Service selector stands for the workload labels;
//   3. otherwise: not meshed.
import type { ServiceObject } from '../api/objects.ts';
import { effectiveMtls } from './mtls.ts';
import type { EndpointAddress, MeshService, ObjectKey, PeerAuthPolicy, ServicePort, WorkloadFacts } from './types.ts';

/** Service annotation: every endpoint of this Service runs a Weft sidecar. */
export const MESHED_SERVICE_ANNOTATION = 'weft.dev/mtls';
/** Pod annotation the injection webhook adds: the Pod runs a Weft sidecar. */
export const SIDECAR_STATUS_ANNOTATION = 'weft.dev/status';

/** WorkloadFacts from a Pod's metadata (for the Kubernetes source). */
export function workloadFacts(pod: {
  readonly namespace: string;
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}): WorkloadFacts {
  return {
    namespace: pod.namespace,
    name: pod.name,
    labels: pod.labels ?? {},
    sidecar: pod.annotations?.[SIDECAR_STATUS_ANNOTATION] !== undefined,
  };
}

/** Keys of the Services annotated `weft.dev/mtls: "true"`. */
export function meshedServiceKeys(services: readonly ServiceObject[]): Set<ObjectKey> {
  return new Set(
    services.filter((s) => s.metadata.annotations?.[MESHED_SERVICE_ANNOTATION] === 'true').map((s): ObjectKey => `${s.metadata.namespace}/${s.metadata.name}`),
  );
}

interface Inputs {
  readonly peerAuths: readonly PeerAuthPolicy[];
  readonly annotated: ReadonlySet<ObjectKey>;
  readonly workloads: ReadonlyMap<string, WorkloadFacts>;
}

function markEndpoint(ep: EndpointAddress, svc: MeshService, port: ServicePort, inputs: Inputs): EndpointAddress {
  const pod = ep.workload === undefined ? undefined : inputs.workloads.get(`${svc.namespace}/${ep.workload}`);
  const facts = pod ?? (inputs.annotated.has(`${svc.namespace}/${svc.name}`) ? { sidecar: true, labels: svc.selector ?? {} } : undefined);
  if (!facts?.sidecar) return ep;
  // PeerAuth port-level modes name container ports. A numeric targetPort is that port even
  // when the endpoint's port is a standalone proxy's inbound port (explicit mode, VMs).
  const containerPort = typeof port.targetPort === 'number' ? port.targetPort : ep.port;
  const mode = effectiveMtls({ peerAuths: inputs.peerAuths }, { namespace: svc.namespace, labels: facts.labels }, containerPort);
  return mode === 'DISABLE' ? ep : { ...ep, meshed: true };
}

/** The services with `meshed` set on every endpoint that accepts mTLS; unchanged objects are reused. */
export function markMeshed(
  services: ReadonlyMap<ObjectKey, MeshService>,
  peerAuths: readonly PeerAuthPolicy[],
  annotated: ReadonlySet<ObjectKey>,
  workloads: readonly WorkloadFacts[] = [],
): Map<ObjectKey, MeshService> {
  const inputs: Inputs = { peerAuths, annotated, workloads: new Map(workloads.map((w) => [`${w.namespace}/${w.name}`, w])) };
  const out = new Map<ObjectKey, MeshService>();
  for (const [key, svc] of services) {
    let changed = false;
    const ports = svc.ports.map((p) => {
      const endpoints = p.endpoints.map((ep) => markEndpoint(ep, svc, p, inputs));
      if (endpoints.every((ep, i) => ep === p.endpoints[i])) return p;
      changed = true;
      return { ...p, endpoints };
    });
    out.set(key, changed ? { ...svc, ports } : svc);
  }
  return out;
}
