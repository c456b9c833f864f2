// injectPod: a pure function from (pod, context) to a mutated deep copy or a skip with a
// reason code. No clock, no I/O: the namespace's labels come from the caller's cache.
import { PROXY_UID } from '../src/base/mesh-ports.ts';
import { renderSidecarBootstrap } from '../xds/bootstrap/sidecar.ts';
import { captureScript } from './capture.ts';
import type { Container, Pod } from './pod.ts';
import { appProbesEnv, probeRoutes, rewriteProbes } from './probes.ts';
import { proxyResources, resourcesSpec } from './resources.ts';
import {
  Annotations,
  ENVOY_LOG_LEVELS,
  INJECT_LABEL,
  INJECT_LABEL_VALUE,
  Names,
  PROTECTED_NAMESPACES,
  TOKEN_PATH,
  WEFT_VERSION,
  parseCidr,
  type InjectValues,
} from './values.ts';
import { MeshPorts } from '../src/base/mesh-ports.ts';

export type SkipReason = 'namespace-not-enabled' | 'opted-out' | 'host-network' | 'already-injected' | 'protected-namespace';

export interface InjectContext {
  readonly values: InjectValues;
  /** The namespace's labels from the informer cache; undefined when the cache doesn't know it. */
  readonly namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined;
}

export type InjectResult =
  { readonly pod: Pod; readonly warnings: readonly string[] } | { readonly skip: { readonly reason: SkipReason; readonly message: string } };

/** `namespace` is the admission request's (a Pod being created may not carry one yet). */
export function injectPod(pod: Pod, namespace: string, ctx: InjectContext): InjectResult {
  const v = ctx.values;
  const annotations = pod.metadata?.annotations ?? {};
  const skip = skipReason(pod, namespace, ctx, annotations);
  if (skip) return { skip };

  const warnings: string[] = [];
  const out = structuredClone(pod);
  const spec = out.spec;

  const originals = rewriteProbes(spec.containers, warnings);
  const capture = {
    excludeInboundPorts: [...v.excludeInboundPorts, ...portsAnnotation(annotations, Annotations.excludeInboundPorts, warnings)],
    excludeOutboundPorts: [...v.excludeOutboundPorts, ...portsAnnotation(annotations, Annotations.excludeOutboundPorts, warnings)],
    excludeOutboundCidrs: [...v.excludeOutboundCidrs, ...cidrsAnnotation(annotations, warnings)],
    ipv6: v.ipv6,
  };
  const bootstrap = renderSidecarBootstrap({
    namespace,
    labels: pod.metadata?.labels ?? {},
    xdsAddress: v.xdsAddress,
    trustBundlePem: v.trustBundlePem,
    tokenPath: TOKEN_PATH,
    appProbes: probeRoutes(originals),
  });

  spec.initContainers = [...(spec.initContainers ?? []), initContainer(v, captureScript(capture))];
  // Appended: the app stays the default container for kubectl logs/exec, and the patch stays small.
  spec.containers = [...spec.containers, proxyContainer(v, annotations, bootstrap, originals.size ? appProbesEnv(originals) : undefined, warnings)];
  spec.volumes = [...(spec.volumes ?? []), tokenVolume(v)];

  const meta = (out.metadata ??= {});
  const newAnnotations: Record<string, string> = { ...annotations };
  if (annotations[Annotations.promScrape] === undefined) {
    newAnnotations[Annotations.promScrape] = 'true';
    newAnnotations[Annotations.promPort] = String(MeshPorts.stats);
    newAnnotations[Annotations.promPath] = '/stats/prometheus';
  }
  newAnnotations[Annotations.status] = JSON.stringify({
    version: WEFT_VERSION,
    initContainers: [Names.initContainer],
    containers: [Names.proxyContainer],
    volumes: [Names.tokenVolume],
  });
  meta.annotations = newAnnotations;
  return { pod: out, warnings };
}

function skipReason(pod: Pod, namespace: string, ctx: InjectContext, annotations: Record<string, string>): { reason: SkipReason; message: string } | undefined {
  const protectedNs: readonly string[] = [...PROTECTED_NAMESPACES, ctx.values.controlPlaneNamespace];
  if (protectedNs.includes(namespace))
    return { reason: 'protected-namespace', message: `namespace ${namespace} runs cluster or mesh infrastructure and is never injected` };
  if (annotations[Annotations.inject] === 'false') return { reason: 'opted-out', message: `the pod is annotated ${Annotations.inject}: "false"` };
  // The label works too (Istio and Linkerd users reach for either), and the chart's objectSelector
  // sees it, so the API server does not even call the webhook for such a Pod.
  if (pod.metadata?.labels?.[INJECT_LABEL] === 'false') return { reason: 'opted-out', message: `the pod is labeled ${INJECT_LABEL}: "false"` };
  if (ctx.namespaceLabels(namespace)?.[INJECT_LABEL] !== INJECT_LABEL_VALUE) {
    return { reason: 'namespace-not-enabled', message: `namespace ${namespace} is not labeled ${INJECT_LABEL}=${INJECT_LABEL_VALUE}` };
  }
  if (pod.spec.hostNetwork === true) return { reason: 'host-network', message: 'the pod uses the host network; capturing its traffic would capture the node' };
  const names = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].map((c) => c.name);
  if (annotations[Annotations.status] !== undefined || names.includes(Names.proxyContainer) || names.includes(Names.initContainer)) {
    return { reason: 'already-injected', message: 'the pod already has the weft sidecar' };
  }
  return undefined;
}

function initContainer(v: InjectValues, script: string): Container {
  return {
    name: Names.initContainer,
    image: v.initImage,
    imagePullPolicy: v.imagePullPolicy,
    command: ['/bin/sh', '-ec'],
    args: [script],
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
    securityContext: {
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
    },
  };
}

function proxyContainer(v: InjectValues, annotations: Record<string, string>, bootstrap: string, appProbes: string | undefined, warnings: string[]): Container {
  const resources = proxyResources(
    { requests: { ...v.proxyResources.requests }, limits: { ...v.proxyResources.limits } },
    { ...optional('cpu', annotations[Annotations.proxyCpu]), ...optional('memory', annotations[Annotations.proxyMemory]) },
    warnings,
    { cpu: Annotations.proxyCpu, memory: Annotations.proxyMemory },
  );
  let logLevel: string = v.proxyLogLevel;
  const requested = annotations[Annotations.proxyLogLevel];
  if (requested !== undefined) {
    if ((ENVOY_LOG_LEVELS as readonly string[]).includes(requested)) logLevel = requested;
    else warnings.push(`annotation ${Annotations.proxyLogLevel}: "${requested}" is not one of ${ENVOY_LOG_LEVELS.join(', ')}; using ${logLevel}`);
  }
  const env: Record<string, unknown>[] = [
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
  ];
  if (appProbes) env.push({ name: Names.appProbesEnv, value: appProbes });
  return {
    name: Names.proxyContainer,
    image: v.proxyImage,
    imagePullPolicy: v.imagePullPolicy,
    // Kubernetes expands $(POD_NAME) in args, giving each proxy a readable node id; identity
    // never comes from it (the xDS server reads the token).
    args: [
      '--config-yaml',
      bootstrap,
      '--service-node',
      '$(POD_NAME).$(POD_NAMESPACE)',
      '--log-level',
      logLevel,
      '--drain-time-s',
      '5',
      '--disable-hot-restart',
    ],
    env,
    ports: [{ containerPort: MeshPorts.stats, name: Names.promPortName, protocol: 'TCP' }],
    readinessProbe: {
      httpGet: { path: '/healthz/ready', port: MeshPorts.readiness, scheme: 'HTTP' },
      initialDelaySeconds: 1,
      periodSeconds: 2,
      timeoutSeconds: 3,
      failureThreshold: 30,
    },
    resources: resourcesSpec(resources),
    securityContext: {
      runAsUser: PROXY_UID,
      runAsGroup: PROXY_UID,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [{ name: Names.tokenVolume, mountPath: Names.tokenDir, readOnly: true }],
  };
}

function tokenVolume(v: InjectValues): { name: string } & Record<string, unknown> {
  return {
    name: Names.tokenVolume,
    projected: {
      // 0644: the proxy runs as uid 1337, not the file's owner; the token is only good for
      // this pod's own identity at the xDS server (audience weft), which every container shares.
      defaultMode: 0o644,
      sources: [{ serviceAccountToken: { audience: Names.tokenAudience, expirationSeconds: v.tokenExpirationSeconds, path: Names.tokenFile } }],
    },
  };
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

function portsAnnotation(annotations: Record<string, string>, key: string, warnings: string[]): number[] {
  const raw = annotations[key];
  if (raw === undefined) return [];
  const ports: number[] = [];
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const n = /^\d{1,5}$/.test(part) ? Number(part) : NaN;
    if (n >= 1 && n <= 65535) ports.push(n);
    else warnings.push(`annotation ${key}: "${part}" is not a port (1-65535); ignored`);
  }
  return ports;
}

function cidrsAnnotation(annotations: Record<string, string>, warnings: string[]): string[] {
  const raw = annotations[Annotations.excludeOutboundCidrs];
  if (raw === undefined) return [];
  const out: string[] = [];
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const c = parseCidr(part);
    if (c) out.push(c.text);
    else warnings.push(`annotation ${Annotations.excludeOutboundCidrs}: "${part}" is not a CIDR; ignored`);
  }
  return out;
}
