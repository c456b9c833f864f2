// injectPod: a pure function from (pod, context) to a mutated deep copy or a skip with a
// reason code. No clock, no I/O: the namespace's labels come from the caller's cache.
import { renderSidecarBootstrap } from '../xds/bootstrap/sidecar.ts';
import { encodeCapture } from '../src/capture/annotation.ts';
import { captureScript } from '../src/capture/rules.ts';
import { judgeDodges } from './dodge.ts';
import { initContainer, proxyContainer, tokenVolume, validationContainer } from './containers.ts';
import type { Pod } from './pod.ts';
import { appProbesEnv, probeRoutes, rewriteProbes } from './probes.ts';
import { shapeOf } from './sidecar-mode.ts';
import { podTelemetry } from './telemetry.ts';
import {
  Annotations,
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
import { parseEgress } from '../src/api/egress.ts';

export type SkipReason = 'namespace-not-enabled' | 'opted-out' | 'host-network' | 'already-injected' | 'protected-namespace';

export interface InjectContext {
  readonly values: InjectValues;
  /** The namespace's labels from the informer cache; undefined when the cache doesn't know it. */
  readonly namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined;
}

/**
 * A Pod that would dodge injection silently (dodge.ts), or whose weft.dev/egress annotation
 * does not parse (the controller would ignore it and send every Service): denied with the reason.
 */
export type DenyReason = 'injection-dodge' | 'invalid-egress';

export type InjectResult =
  | { readonly pod: Pod; readonly warnings: readonly string[] }
  | { readonly skip: { readonly reason: SkipReason; readonly message: string } }
  | { readonly deny: { readonly reason: DenyReason; readonly message: string } };

/** `namespace` is the admission request's (a Pod being created may not carry one yet). */
export function injectPod(pod: Pod, namespace: string, ctx: InjectContext): InjectResult {
  const v = ctx.values;
  const annotations = pod.metadata?.annotations ?? {};
  const skip = skipReason(pod, namespace, ctx, annotations);
  if (skip) return { skip };
  const egress = annotations[Annotations.egress];
  const egressParse = egress === undefined ? undefined : parseEgress(egress);
  if (egressParse !== undefined && !egressParse.ok) {
    return { deny: { reason: 'invalid-egress', message: `annotation ${Annotations.egress}: ${egressParse.reason} (docs/scale.md, "Egress scope")` } };
  }

  const warnings: string[] = [];
  const capture = {
    excludeInboundPorts: [...v.excludeInboundPorts, ...portsAnnotation(annotations, Annotations.excludeInboundPorts, warnings)],
    excludeOutboundPorts: [...v.excludeOutboundPorts, ...portsAnnotation(annotations, Annotations.excludeOutboundPorts, warnings)],
    excludeOutboundCidrs: [...v.excludeOutboundCidrs, ...cidrsAnnotation(annotations, warnings)],
    ipv6: v.ipv6,
  };
  // Init-container mode: weft-init installs the rules (root, NET_ADMIN). CNI mode: the weft-cni
  // plugin already did when the sandbox was created, told by the capture annotation below;
  // weft-validation (unprivileged) only proves it, so the Pod passes PodSecurity `restricted`.
  const cni = v.captureMode === 'cni';
  const init = cni ? validationContainer(v, encodeCapture(capture)) : initContainer(v, captureScript(capture));
  const dodge = judgeDodges(pod, v, init);
  if (dodge?.verdict === 'deny') return { deny: { reason: 'injection-dodge', message: dodge.message } };
  if (dodge?.verdict === 'genuine') return { skip: { reason: 'already-injected', message: 'the pod already has the weft sidecar' } };
  if (dodge?.verdict === 'forged-status')
    warnings.push(`the pod carried a ${Annotations.status} annotation without the sidecar: it is injected now and the annotation rewritten`);

  const out = structuredClone(pod);
  const spec = out.spec;
  const originals = rewriteProbes(spec.containers, warnings);
  const bootstrap = renderSidecarBootstrap({
    namespace,
    labels: pod.metadata?.labels ?? {},
    xdsAddress: v.xdsAddress,
    trustBundlePem: v.trustBundlePem,
    tokenPath: TOKEN_PATH,
    appProbes: probeRoutes(originals),
    telemetry: podTelemetry(pod, namespace, ctx.namespaceLabels(namespace), v, warnings),
  });

  const shape = shapeOf(v.sidecarMode);
  const proxy = proxyContainer({ values: v, shape, annotations, bootstrap, appProbes: originals.size ? appProbesEnv(originals) : undefined, warnings });
  if (shape === 'native') {
    // Capture first, then the proxy, then the app's own init containers: those run meshed
    // (their traffic is captured and the proxy already has config), like the app.
    spec.initContainers = [init, proxy, ...(spec.initContainers ?? [])];
  } else {
    // Capture last: the app's init containers run before any proxy exists, so they must not
    // be captured (their traffic would be redirected to nothing).
    spec.initContainers = [...(spec.initContainers ?? []), init];
    // Appended: the app stays the default container for kubectl logs/exec, and the patch stays small.
    spec.containers = [...spec.containers, proxy];
  }
  spec.volumes = [...(spec.volumes ?? []), tokenVolume(v)];

  const meta = (out.metadata ??= {});
  const newAnnotations: Record<string, string> = { ...annotations };
  if (annotations[Annotations.promScrape] === undefined) {
    newAnnotations[Annotations.promScrape] = 'true';
    newAnnotations[Annotations.promPort] = String(MeshPorts.stats);
    newAnnotations[Annotations.promPath] = '/stats/prometheus';
  }
  if (cni) newAnnotations[Annotations.capture] = encodeCapture(capture);
  else delete newAnnotations[Annotations.capture];
  newAnnotations[Annotations.status] = JSON.stringify({
    version: WEFT_VERSION,
    initContainers: shape === 'native' ? [init.name, Names.proxyContainer] : [init.name],
    containers: shape === 'native' ? [] : [Names.proxyContainer],
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
  // Whether it is already injected is judgeDodges' to say: a name or an annotation proves nothing.
  return undefined;
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
