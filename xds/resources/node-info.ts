// Envoy/gRPC node → ProxyInfo. The node is untrusted input: it only selects configuration,
// never identity (that comes from the credential, see src/identity/auth-hook.ts). Problems come
// back as data naming the field and the reason.
import { z } from 'zod';
import type { Node } from '../gen/envoy/config/core/v3/base_pb.js';
import type { ProxyInfo } from './proxy.ts';
import { MeshPorts } from '../../src/base/mesh-ports.ts';
import { LABEL_VALUE, LABEL_VALUE_MAX } from '../../src/api/bounds.ts';
import { parseEgress, resolveEgress, type EgressSpec } from '../../src/api/egress.ts';

const DEFAULT_NAMESPACE = 'default';
const dnsLabel = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label');

const portNumber = z.coerce.number({ error: 'must be a port number' }).int('must be a port number').min(1, 'must be 1-65535').max(65535, 'must be 1-65535');

const booleanString = z.union([z.enum(['true', 'false']), z.boolean()], {
  error: 'must be "true" or "false"',
});

// Other metadata keys (Envoy's own, Istio-style ones) are allowed and ignored.
const WeftMetadata = z.looseObject({
  WEFT_NAMESPACE: dnsLabel.optional(),
  WEFT_SERVICE: dnsLabel.optional(),
  WEFT_CAPTURE: booleanString.optional(),
  WEFT_LABELS: z.record(z.string(), z.string({ error: 'label values must be strings' })).optional(),
  WEFT_OUTBOUND_PORT: portNumber.optional(),
  WEFT_INBOUND_PORT: portNumber.optional(),
  WEFT_STATS_PORT: portNumber.optional(),
  WEFT_PROXY_KIND: z.enum(['sidecar', 'proxyless'], { error: 'must be "sidecar" or "proxyless"' }).optional(),
  // Telemetry (xds/bootstrap/telemetry.ts TelemetryMetadataKeys).
  WEFT_WORKLOAD: z.string().min(1).max(253).optional(),
  WEFT_IDENTITY: z.string().min(1).max(2048).optional(),
  WEFT_ACCESS_LOG: booleanString.optional(),
  // Egress scope (src/api/egress.ts); parsed below so the reason names the entry.
  WEFT_EGRESS: z.string({ error: 'must be a string like "shop/*, ./billing"' }).optional(),
  WEFT_TRACE_SAMPLING: z.coerce.number({ error: 'must be a percentage' }).min(0, 'must be 0-100').max(100, 'must be 0-100').optional(),
});

/**
 * gRPC's xDS clients name themselves in user_agent_name: "gRPC Node Pure JS"
 * (@grpc/grpc-js-xds), "gRPC Go", "gRPC Java", "gRPC C-core …". Envoy sends "envoy".
 */
export function isGrpcUserAgent(userAgentName: string): boolean {
  return /^gRPC\b/.test(userAgentName);
}

export type NodeResult = { ok: true; proxy: ProxyInfo } | { ok: false; reason: string; /** Over the size bound. */ limit?: true };

/** Default bound on a node's size (id, cluster, metadata keys and strings). */
export const DEFAULT_MAX_NODE_BYTES = 64 * 1024;

/**
 * Characters in a node's id, cluster and metadata (keys and string values, nested), counted
 * only up to `max`: a node with 300k metadata keys is refused after reading `max` of them,
 * before schema validation or logging touch it.
 */
export function nodeSizeOver(node: Node, max: number): boolean {
  let budget = max - node.id.length - node.cluster.length - node.userAgentName.length;
  const stack: unknown[] = [node.metadata];
  while (stack.length > 0 && budget >= 0) {
    const v = stack.pop();
    if (typeof v === 'string') budget -= v.length;
    else if (Array.isArray(v)) {
      budget -= v.length;
      for (const x of v) stack.push(x);
    } else if (v !== null && typeof v === 'object') {
      for (const k in v) {
        budget -= k.length + 1;
        if (budget < 0) break;
        stack.push((v as Record<string, unknown>)[k]);
      }
    } else budget -= 8;
  }
  return budget < 0;
}

function telemetry(md: z.infer<typeof WeftMetadata>): Pick<ProxyInfo, 'telemetry'> {
  const accessLog = md.WEFT_ACCESS_LOG === true || md.WEFT_ACCESS_LOG === 'true';
  const traceSampling = md.WEFT_TRACE_SAMPLING !== undefined && md.WEFT_TRACE_SAMPLING > 0 ? md.WEFT_TRACE_SAMPLING : undefined;
  if (!accessLog && traceSampling === undefined) return {};
  return {
    telemetry: {
      accessLog,
      ...(traceSampling !== undefined ? { traceSampling } : {}),
      ...(md.WEFT_WORKLOAD !== undefined ? { workload: md.WEFT_WORKLOAD } : {}),
      ...(md.WEFT_IDENTITY !== undefined ? { identity: md.WEFT_IDENTITY } : {}),
    },
  };
}

export interface NodeDefaults {
  /** The scope of a proxy whose metadata has no WEFT_EGRESS (`--egress-default`). */
  readonly egressDefault?: EgressSpec;
}

export function proxyFromNode(node: Node | undefined, maxBytes = DEFAULT_MAX_NODE_BYTES, defaults: NodeDefaults = {}): NodeResult {
  if (node === undefined) return { ok: false, reason: 'node: missing (the first request on a stream must carry it)' };
  if (nodeSizeOver(node, maxBytes)) return { ok: false, reason: `node: id, cluster and metadata over ${maxBytes} characters`, limit: true };
  const parsed = WeftMetadata.safeParse(node.metadata ?? {});
  if (!parsed.success) {
    const reason = parsed.error.issues.map((i) => `node.metadata${i.path.map((p) => `.${String(p)}`).join('')}: ${i.message}`).join('; ');
    return { ok: false, reason };
  }
  const md = parsed.data;
  const zone = node.locality?.zone ?? '';
  if (zone.length > LABEL_VALUE_MAX || !LABEL_VALUE.test(zone)) {
    return { ok: false, reason: 'node.locality.zone: must be a label value (at most 63 letters, digits, "-", "_" and ".")' };
  }
  const egress = md.WEFT_EGRESS === undefined ? undefined : parseEgress(md.WEFT_EGRESS);
  if (egress !== undefined && !egress.ok) return { ok: false, reason: `node.metadata.WEFT_EGRESS: ${egress.reason}` };
  const namespace = md.WEFT_NAMESPACE ?? DEFAULT_NAMESPACE;
  const spec = egress?.spec ?? defaults.egressDefault;
  const hosts = spec === undefined ? undefined : resolveEgress(spec, namespace);
  const kind = md.WEFT_PROXY_KIND ?? (isGrpcUserAgent(node.userAgentName) ? 'proxyless' : 'sidecar');
  const capture = md.WEFT_CAPTURE === undefined ? kind === 'sidecar' : md.WEFT_CAPTURE === true || md.WEFT_CAPTURE === 'true';
  if (kind === 'proxyless' && capture) {
    return { ok: false, reason: 'node.metadata.WEFT_CAPTURE: must be "false" for proxyless clients (nothing captures their traffic)' };
  }
  if (md.WEFT_INBOUND_PORT !== undefined && !capture && md.WEFT_INBOUND_PORT === (md.WEFT_OUTBOUND_PORT ?? MeshPorts.outbound)) {
    return { ok: false, reason: 'node.metadata.WEFT_INBOUND_PORT: must differ from the outbound listener port' };
  }
  return {
    ok: true,
    proxy: {
      id: node.id,
      kind,
      namespace,
      ...(md.WEFT_SERVICE !== undefined ? { service: md.WEFT_SERVICE } : {}),
      labels: md.WEFT_LABELS ?? {},
      capture,
      ...(md.WEFT_OUTBOUND_PORT !== undefined && !capture ? { outboundPort: md.WEFT_OUTBOUND_PORT } : {}),
      // Captured proxies receive inbound traffic on MeshPorts.inbound whatever they say.
      ...(md.WEFT_INBOUND_PORT !== undefined && !capture && kind === 'sidecar' ? { inboundPort: md.WEFT_INBOUND_PORT } : {}),
      ...telemetry(md),
      ...(md.WEFT_STATS_PORT !== undefined && kind === 'sidecar' ? { statsPort: md.WEFT_STATS_PORT } : {}),
      ...(zone ? { zone } : {}),
      ...(hosts !== undefined ? { egress: hosts } : {}),
    },
  };
}
