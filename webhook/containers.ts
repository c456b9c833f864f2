// The containers and the volume injection adds: weft-init (capture), weft-proxy (Envoy) in
// either shape (webhook/sidecar-mode.ts), and the projected token.
//
// Native shape: weft-proxy is an init container with restartPolicy Always placed right after
// weft-init, so the kubelet
//  - starts it before the app's own init containers and its containers, and starts those only
//    once its startupProbe passed: /healthz/ready answers 200 only when Envoy has its first
//    config from the control plane (xds/bootstrap/sidecar.ts), so the app never runs — and
//    its liveness probe never runs — against a proxy without config, and the app's init
//    containers are meshed too;
//  - at Pod deletion stops the app containers first and the proxy only after they exited,
//    so the app's last requests (in and out) still have their proxy. Envoy closes its
//    listeners at once on SIGTERM (Envoy docs, "Draining": "By default, the Envoy server will
//    close listeners immediately on server shutdown"), which is right then: what it proxied
//    has exited. No preStop hook, so no binary is needed in the proxy image for shutdown;
//  - lets a Job's Pod complete when its app exits (sidecars do not count toward completion).
//    Nothing here defeats that: no shareProcessNamespace, no postStart hook, no lifecycle.
// Container shape (API servers without native sidecars): weft-proxy is appended to the
// containers and starts alongside the app; Pod readiness still waits for Envoy's config (its
// readinessProbe), liveness works without a control plane (bounded initial fetch, see the
// bootstrap), but a Job's Pod does not complete while Envoy runs, and at deletion every
// container gets SIGTERM together. docs/design-decisions.md ("Sidecar shape") has the
// reasoning.
import { MeshPorts, PROXY_UID } from '../src/base/mesh-ports.ts';
import type { Container } from './pod.ts';
import { proxyResources, resourcesSpec } from './resources.ts';
import type { SidecarShape } from './sidecar-mode.ts';
import { Annotations, ENVOY_LOG_LEVELS, Names, ZONE_LABEL, type InjectValues } from './values.ts';

/** Envoy's readiness: 200 once it has config from the control plane and is not draining. */
const READY = { httpGet: { path: '/healthz/ready', port: MeshPorts.readiness, scheme: 'HTTP' } } as const;

// Probe timings are Istio's injection template's, which meshes run at scale:
//  - native startupProbe: every 1 s (it gates the app's start, so its period is pure added
//    start latency), up to 600 failures (10 min waiting for a control plane) before the
//    kubelet restarts the proxy; the app keeps waiting either way.
//  - native readinessProbe: once started, readiness changes only when Envoy drains or
//    restarts, so every 15 s × 4 is enough and keeps the kubelet's load low.
//  - container shape readinessProbe: it is also the start gate of Pod readiness, so every
//    2 s, 30 failures (a minute) before the container counts as unready again.
export const ProxyProbes = {
  nativeStartup: { ...READY, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 3, failureThreshold: 600 },
  nativeReadiness: { ...READY, initialDelaySeconds: 0, periodSeconds: 15, timeoutSeconds: 3, failureThreshold: 4 },
  containerReadiness: { ...READY, initialDelaySeconds: 1, periodSeconds: 2, timeoutSeconds: 3, failureThreshold: 30 },
} as const;

export function initContainer(v: InjectValues, script: string): Container {
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

export interface ProxyContainerInput {
  readonly values: InjectValues;
  readonly shape: SidecarShape;
  readonly annotations: Record<string, string>;
  readonly bootstrap: string;
  /** WEFT_APP_PROBES (the rewritten app probes), when there are any. */
  readonly appProbes: string | undefined;
  readonly warnings: string[];
}

export function proxyContainer({ values: v, shape, annotations, bootstrap, appProbes, warnings }: ProxyContainerInput): Container {
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
    // The zone BackendPolicy zone failover prefers. Unknown at admission (the Pod is not yet
    // scheduled): Kubernetes ≥ 1.33 copies the Node's zone label onto the Pod at binding, and
    // the kubelet resolves this when the container starts. No label: empty, no zone preference.
    { name: Names.zoneEnv, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${ZONE_LABEL}']` } } },
  ];
  if (appProbes) env.push({ name: Names.appProbesEnv, value: appProbes });
  const probes =
    shape === 'native'
      ? { startupProbe: ProxyProbes.nativeStartup, readinessProbe: ProxyProbes.nativeReadiness }
      : { readinessProbe: ProxyProbes.containerReadiness };
  return {
    name: Names.proxyContainer,
    image: v.proxyImage,
    imagePullPolicy: v.imagePullPolicy,
    ...(shape === 'native' ? { restartPolicy: 'Always' } : {}),
    // Kubernetes expands $(POD_NAME) in args, giving each proxy a readable node id; identity
    // never comes from it (the xDS server reads the token). --drain-time-s bounds how long
    // listeners the control plane changes or removes keep their old connections.
    args: [
      '--config-yaml',
      bootstrap,
      '--service-node',
      '$(POD_NAME).$(POD_NAMESPACE)',
      '--service-zone',
      `$(${Names.zoneEnv})`,
      '--log-level',
      logLevel,
      '--drain-time-s',
      '5',
      '--disable-hot-restart',
    ],
    env,
    ports: [{ containerPort: MeshPorts.stats, name: Names.promPortName, protocol: 'TCP' }],
    ...structuredClone(probes),
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

export function tokenVolume(v: InjectValues): { name: string } & Record<string, unknown> {
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
