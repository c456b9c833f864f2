// `weftctl analyze`: static checks over config objects (from the cluster, from files, or
// both) and, when known, the cluster's namespaces and Pods. Pure: the CLI gathers the input.
// Policy problems come from the model's own statuses (one source of truth with what the
// controller writes), so every policy kind is covered without a check of its own.
import { SERVICE_NAME_LABEL, type ConfigObject, type ServiceObject } from '../api/objects.ts';
import { buildModel, DEFAULT_CONTROL_PLANE_NAMESPACE, workloadFacts } from '../model/build.ts';
import { declaredAppProtocol } from '../model/services.ts';
import { compareStrings } from '../base/order.ts';
import type { MeshModel, MtlsMode, PolicyStatus } from '../model/types.ts';
import { finding, type Finding } from './findings.ts';

export interface NamespaceFacts {
  readonly name: string;
  /** Labelled for injection (weft.dev/inject=enabled). */
  readonly meshed: boolean;
  /** Cluster or mesh infrastructure: never injected, never reported. */
  readonly infrastructure?: boolean;
}

export interface PodFacts {
  readonly namespace: string;
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Runs the Weft sidecar (the webhook's status annotation). */
  readonly sidecar: boolean;
  /** Opted out of injection (label or annotation) or on the host network: never injected. */
  readonly exempt: boolean;
  /** The controller that owns it (`Deployment/web`), for the fix hint. */
  readonly owner?: string;
}

export interface AnalyzeInput {
  readonly objects: readonly ConfigObject[];
  /** Absent when only files were read: the namespace and Pod checks are skipped. */
  readonly namespaces?: readonly NamespaceFacts[];
  readonly pods?: readonly PodFacts[];
  readonly controlPlaneNamespace?: string;
  /**
   * Every EndpointSlice is in `objects` (read from a cluster). False for files alone: a backend
   * is then judged only when the files carry a slice for it. Default true.
   */
  readonly endpointsKnown?: boolean;
}

const id = (kind: string, key: string): string => `${kind} ${key}`;

function statusFindings(statuses: readonly PolicyStatus[]): Finding[] {
  const out: Finding[] = [];
  for (const st of statuses) {
    const acc = st.conditions.find((c) => c.type === 'Accepted');
    const refs = st.conditions.find((c) => c.type === 'ResolvedRefs');
    const object = id(st.kind, st.key);
    if (acc?.status === 'False') {
      if (acc.reason === 'Conflicted') out.push(finding('conflict', object, acc.message));
      else if (acc.reason.endsWith('NotFound')) out.push(finding('targetNotFound', object, acc.message));
      else out.push(finding('notAccepted', object, `${acc.reason}: ${acc.message}`));
    } else if (refs?.status === 'False') out.push(finding('targetNotFound', object, refs.message));
  }
  return out;
}

function splitFindings(model: MeshModel, judged: (namespace: string, service: string) => boolean): Finding[] {
  const out: Finding[] = [];
  for (const svc of model.services.values()) {
    if (!svc.split) continue;
    const object = id('TrafficSplit', svc.split.policy);
    const httpPorts = svc.ports.filter((p) => p.protocol === 'TCP' && p.appProtocol !== 'tcp');
    for (const b of svc.split.backends) {
      const backend = model.services.get(`${svc.namespace}/${b.service}`);
      if (!backend) continue; // the model's ResolvedRefs already says so
      if (judged(svc.namespace, b.service) && !backend.ports.some((p) => p.endpoints.some((e) => e.ready))) {
        out.push(
          finding(
            'backendNoEndpoints',
            object,
            `backend ${svc.namespace}/${b.service} (weight ${b.weight}) has no ready endpoints: its share of ${svc.namespace}/${svc.name} fails`,
          ),
        );
      }
      const missing = httpPorts.filter((rp) => !backend.ports.some((p) => p.port === rp.port && p.appProtocol !== 'tcp')).map((p) => p.port);
      if (missing.length) {
        out.push(
          finding(
            'backendPortMismatch',
            object,
            `backend ${svc.namespace}/${b.service} has no HTTP port ${missing.join(', ')} of ${svc.namespace}/${svc.name}: requests on ${missing.length > 1 ? 'those ports' : 'that port'} never reach it`,
          ),
        );
      }
    }
  }
  return out;
}

function portFindings(services: readonly ServiceObject[], meshed: ReadonlySet<string> | undefined): Finding[] {
  const out: Finding[] = [];
  for (const s of services) {
    if (meshed && !meshed.has(s.metadata.namespace)) continue; // only traffic Weft proxies matters
    for (const p of s.spec.ports ?? []) {
      if ((p.protocol ?? 'TCP') !== 'TCP' || declaredAppProtocol(p)) continue;
      const label = p.name ? `port ${p.port} (${p.name})` : `port ${p.port}`;
      out.push(
        finding(
          'portProtocolUnknown',
          id('Service', `${s.metadata.namespace}/${s.metadata.name}`),
          `${label} has no appProtocol and no protocol name prefix: Weft treats it as HTTP`,
        ),
      );
    }
  }
  return out;
}

function strictModes(model: MeshModel): { policy: string; mode: MtlsMode }[] {
  return model.peerAuths.flatMap((pa) => {
    const modes = [pa.mode, ...Object.values(pa.portModes)];
    return modes.includes('STRICT') ? [{ policy: pa.policy, mode: 'STRICT' as const }] : [];
  });
}

function workloadFindings(model: MeshModel, input: AnalyzeInput): Finding[] {
  const namespaces = input.namespaces;
  if (!namespaces || !input.pods) return [];
  const byName = new Map(namespaces.map((n) => [n.name, n]));
  const out: Finding[] = [];
  const unmeshedCallers = new Map<string, number>();
  for (const pod of input.pods) {
    const ns = byName.get(pod.namespace);
    if (!ns || ns.infrastructure) continue;
    const object = id('Pod', `${pod.namespace}/${pod.name}`);
    const owner = pod.owner ? ` (${pod.owner})` : '';
    if (ns.meshed && !pod.sidecar && !pod.exempt) {
      out.push(
        finding(
          'podWithoutSidecar',
          object,
          `namespace ${pod.namespace} is labelled for injection but this Pod${owner} has no sidecar: it started before the label or the webhook`,
        ),
      );
    }
    if (!ns.meshed && pod.sidecar) {
      out.push(
        finding(
          'sidecarNotLabelled',
          object,
          `this Pod${owner} runs a sidecar but namespace ${pod.namespace} is no longer labelled for injection: its replacements will start unmeshed`,
        ),
      );
    }
    if (!pod.sidecar) unmeshedCallers.set(pod.namespace, (unmeshedCallers.get(pod.namespace) ?? 0) + 1);
  }
  const callers = [...unmeshedCallers].filter(([ns]) => !byName.get(ns)?.meshed);
  if (callers.length) {
    const who = callers.map(([ns, n]) => `${ns} (${n})`).join(', ');
    for (const s of strictModes(model)) {
      out.push(
        finding(
          'strictUnmeshedCallers',
          id('PeerAuth', s.policy),
          `STRICT refuses plaintext, and Pods in unmeshed namespaces may call the workloads it selects: ${who}`,
        ),
      );
    }
  }
  return out;
}

const SEVERITY_ORDER = { Error: 0, Warning: 1 } as const;

/** Every finding, errors first, then by code and object. */
export function analyze(input: AnalyzeInput): Finding[] {
  const workloads = (input.pods ?? []).map((p) => workloadFacts({ ...p }));
  const model = buildModel(input.objects, {
    controlPlaneNamespace: input.controlPlaneNamespace ?? DEFAULT_CONTROL_PLANE_NAMESPACE,
    ...(input.pods ? { workloads } : {}),
  });
  const services = input.objects.filter((o): o is ServiceObject => o.kind === 'Service');
  const meshed = input.namespaces ? new Set(input.namespaces.filter((n) => n.meshed).map((n) => n.name)) : undefined;
  const sliced = new Set(
    input.objects.flatMap((o) => (o.kind === 'EndpointSlice' ? [`${o.metadata.namespace}/${o.metadata.labels?.[SERVICE_NAME_LABEL] ?? ''}`] : [])),
  );
  const judged = (ns: string, name: string): boolean => input.endpointsKnown !== false || sliced.has(`${ns}/${name}`);
  return [...statusFindings(model.statuses), ...splitFindings(model, judged), ...portFindings(services, meshed), ...workloadFindings(model, input)].sort(
    (a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || compareStrings(a.code, b.code) || compareStrings(a.object, b.object),
  );
}
