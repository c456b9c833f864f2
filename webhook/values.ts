// Injection settings (chart values) and the names injection writes. Values are validated once
// when the control plane builds them; injectPod trusts them.
import { EGRESS_ANNOTATION } from '../src/api/egress.ts';
import { z } from 'zod';
import { MeshPorts } from '../src/base/mesh-ports.ts';
import { CAPTURE_ANNOTATION } from '../src/capture/annotation.ts';
import { parseCidr } from '../src/capture/rules.ts';

export { parseCidr };

export const WEFT_VERSION = '0.1.0';

/** The proxy/init image `make images` and `make images-local` produce (images/weft-proxy/image.json). */
export const PROXY_IMAGE = `ghcr.io/weft-mesh/weft-proxy:${WEFT_VERSION}`;

/** The control-plane image (images/weft): Node and Weft's sources; CNI mode's weft-validation runs in it. */
export const CONTROLLER_IMAGE = `ghcr.io/weft-mesh/weft:${WEFT_VERSION}`;

export const Names = {
  initContainer: 'weft-init',
  validationContainer: 'weft-validation',
  proxyContainer: 'weft-proxy',
  tokenVolume: 'weft-token',
  tokenDir: '/var/run/secrets/weft',
  tokenFile: 'token',
  tokenAudience: 'weft',
  promPortName: 'http-envoy-prom',
  appProbesEnv: 'WEFT_APP_PROBES',
  /** The Pod's zone: its topology.kubernetes.io/zone label, which Kubernetes copies from the Node at binding. */
  zoneEnv: 'WEFT_ZONE',
} as const;

/** The well-known zone label of Nodes (and, from Kubernetes 1.33's PodTopologyLabelsAdmission, of their Pods). */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export const TOKEN_PATH = `${Names.tokenDir}/${Names.tokenFile}`;

export const Annotations = {
  inject: 'weft.dev/inject',
  /** CNI mode: the Pod's capture configuration, read by the weft-cni plugin (src/capture/annotation.ts). */
  capture: CAPTURE_ANNOTATION,
  /** The Services the sidecar calls (src/api/egress.ts); read by the controller from the Pod. */
  egress: EGRESS_ANNOTATION,
  status: 'weft.dev/status',
  excludeInboundPorts: 'weft.dev/exclude-inbound-ports',
  excludeOutboundPorts: 'weft.dev/exclude-outbound-ports',
  excludeOutboundCidrs: 'weft.dev/exclude-outbound-cidrs',
  proxyCpu: 'weft.dev/proxy-cpu',
  proxyMemory: 'weft.dev/proxy-memory',
  proxyLogLevel: 'weft.dev/proxy-log-level',
  promScrape: 'prometheus.io/scrape',
  promPort: 'prometheus.io/port',
  promPath: 'prometheus.io/path',
  /** "true" | "false": JSON access log lines on the sidecar's stdout (also a Namespace label). */
  accessLog: 'telemetry.weft.dev/access-log',
  /** Percent of requests traced, 0-100 (also a Namespace label). */
  traceSampling: 'telemetry.weft.dev/trace-sampling',
} as const;

/** Namespace label that turns injection on. */
export const INJECT_LABEL = 'weft.dev/inject';
export const INJECT_LABEL_VALUE = 'enabled';

export const PROTECTED_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'] as const;

export const SIDECAR_MODES = ['auto', 'native', 'container'] as const;
export type SidecarMode = (typeof SIDECAR_MODES)[number];

/** Who installs the capture rules: the privileged weft-init container, or the weft-cni plugin on the node. */
export const CAPTURE_MODES = ['init-container', 'cni'] as const;

export const ENVOY_LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'warn', 'error', 'critical', 'off'] as const;

// Kubernetes resource.Quantity syntax (apimachinery's regexp, without the sign).
export const QUANTITY_RE = /^([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|([eE][-+]?[0-9]+))?$/;

const quantity = z.string().regex(QUANTITY_RE, 'must be a Kubernetes quantity such as 100m or 128Mi');
const resourceList = z.object({ cpu: quantity.optional(), memory: quantity.optional() }).strict();
const port = z.number().int().min(1).max(65535);
const cidr = z.string().refine((s) => parseCidr(s) !== undefined, 'must be an IPv4 or IPv6 CIDR such as 10.0.0.0/8');

export const InjectValuesSchema = z
  .object({
    /** Envoy with the sidecar's uid 1337: `make images` builds it (images/weft-proxy). */
    proxyImage: z.string().min(1).default(PROXY_IMAGE),
    /** An image with /bin/sh, iptables and ip6tables (the capture script runs there): the same image by default. */
    initImage: z.string().min(1).default(PROXY_IMAGE),
    imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
    proxyResources: z
      .object({ requests: resourceList.default({ cpu: '100m', memory: '128Mi' }), limits: resourceList.default({ memory: '512Mi' }) })
      .strict()
      .default({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } }),
    proxyLogLevel: z.enum(ENVOY_LOG_LEVELS).default('warning'),
    excludeInboundPorts: z.array(port).default([]),
    excludeOutboundPorts: z.array(port).default([]),
    excludeOutboundCidrs: z.array(cidr).default([]),
    /** Also write ip6tables rules (dual-stack or IPv6 clusters). */
    ipv6: z.boolean().default(false),
    controlPlaneNamespace: z.string().min(1).default('weft-system'),
    /** `host:port` of the xDS server's TLS port, as named in its serving certificate. */
    xdsAddress: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/, 'must be HOST:PORT')
      .optional(),
    /** PEM trust bundle (the CA's roots); proxies verify the xDS server with it. */
    trustBundlePem: z.string().includes('-----BEGIN CERTIFICATE-----', { message: 'must contain a PEM certificate' }),
    tokenExpirationSeconds: z.number().int().min(600).default(3600),
    /**
     * How the proxy is injected (webhook/sidecar-mode.ts): `native` as an init container with
     * restartPolicy Always (Kubernetes native sidecar), `container` as a plain container (API
     * servers without native sidecars), `auto` by the API server's version, read at start.
     */
    sidecarMode: z.enum(SIDECAR_MODES).default('auto'),
    /**
     * `init-container`: weft-init (root, NET_ADMIN, NET_RAW) installs the capture rules.
     * `cni`: the weft-cni plugin does, when the sandbox is created (chart value cni.enabled);
     * the Pod gets the unprivileged weft-validation init container instead and passes
     * PodSecurity `restricted` (docs/cni.md).
     */
    captureMode: z.enum(CAPTURE_MODES).default('init-container'),
    /** CNI mode: the image weft-validation runs in (Node and src/capture/validate.ts): the controller image. */
    validationImage: z.string().min(1).default(CONTROLLER_IMAGE),
    /** The mesh's SPIFFE trust domain (the controller fills it from the CA): the `source_identity` stats tag. */
    trustDomain: z.string().min(1).optional(),
    /** Mesh-wide telemetry defaults; a Namespace label or a Pod annotation overrides them (docs/telemetry.md). */
    telemetry: z
      .object({
        accessLog: z.boolean().default(false),
        tracing: z
          .object({
            /** `host:port` of an OTLP/gRPC collector; tracing is off without it. */
            endpoint: z
              .string()
              .regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/, 'must be HOST:PORT')
              .optional(),
            /** Percent of requests traced. */
            sampling: z.number().min(0).max(100).default(1),
          })
          .strict()
          .default({ sampling: 1 }),
      })
      .strict()
      .default({ accessLog: false, tracing: { sampling: 1 } }),
  })
  .strict();

export type InjectValuesInput = z.input<typeof InjectValuesSchema>;
export type InjectValues = z.output<typeof InjectValuesSchema> & { xdsAddress: string };

export type ValuesResult = { ok: true; values: InjectValues } | { ok: false; errors: string[] };

/** Validates chart values; every problem names its field. */
export function parseInjectValues(input: unknown): ValuesResult {
  const r = InjectValuesSchema.safeParse(input);
  if (!r.success) return { ok: false, errors: r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
  const v = r.data;
  return { ok: true, values: { ...v, xdsAddress: v.xdsAddress ?? `weft.${v.controlPlaneNamespace}.svc:${MeshPorts.xdsTls}` } };
}
