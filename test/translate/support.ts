// Golden-file plumbing: scenario directories (input.yaml + proxy.yaml) → model and
// ProxyInfo through the real parseObject/buildModel, and a ResourceSet → readable YAML
// (protobuf JSON, `@type` first).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toJson, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import YAML from 'yaml';
import { z } from 'zod';
import { parseEgress, resolveEgress } from '../../src/api/egress.ts';
import { parseObject, type ConfigObject } from '../../src/api/objects.ts';
import { buildModel, workloadFacts } from '../../src/model/build.ts';
import type { MeshModel, WorkloadFacts } from '../../src/model/types.ts';
import type { ProxyInfo } from '../../xds/resources/proxy.ts';
import { envoyRegistry } from '../../xds/resources/registry.ts';
import type { ResourceSet } from '../../xds/translate/types.ts';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../xds/gen/envoy/config/route/v3/route_pb.js';

/** Parses multi-document YAML into config objects; an invalid fixture fails loudly. */
export function parseDocuments(text: string): ConfigObject[] {
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJS() as unknown)
    .filter((raw) => raw !== null && raw !== undefined)
    .map((raw, i) => {
      const res = parseObject(raw);
      if (!res.ok) throw new Error(`document ${i}: ${JSON.stringify(res.problems)}`);
      return res.object;
    });
}

const ProxyYaml = z.object({
  id: z.string().default('proxy-under-test'),
  kind: z.enum(['sidecar', 'proxyless']).default('sidecar'),
  namespace: z.string(),
  service: z.string().optional(),
  labels: z.record(z.string(), z.string()).default({}),
  capture: z.boolean().default(true),
  /** SPIFFE id: the proxy has a workload certificate over SDS, so translation emits mTLS. */
  identity: z.string().optional(),
  outboundPort: z.number().int().optional(),
  inboundPort: z.number().int().optional(),
  /** node.locality.zone: BackendPolicy zone failover orders endpoints relative to it. */
  zone: z.string().optional(),
  /** The weft.dev/egress annotation (src/api/egress.ts), resolved in the proxy's namespace. */
  egress: z.string().optional(),
});

export function parseProxy(text: string): ProxyInfo {
  const p = ProxyYaml.parse(YAML.parse(text));
  return {
    id: p.id,
    kind: p.kind,
    namespace: p.namespace,
    labels: p.labels,
    capture: p.capture,
    ...(p.service ? { service: p.service } : {}),
    ...(p.identity ? { identity: p.identity } : {}),
    ...(p.outboundPort ? { outboundPort: p.outboundPort } : {}),
    ...(p.inboundPort ? { inboundPort: p.inboundPort } : {}),
    ...(p.zone ? { zone: p.zone } : {}),
    ...egressOf(p.egress, p.namespace),
  };
}

function egressOf(value: string | undefined, namespace: string): Pick<ProxyInfo, 'egress'> {
  if (value === undefined) return {};
  const parsed = parseEgress(value);
  if (!parsed.ok) throw new Error(`proxy.yaml egress: ${parsed.reason}`);
  const hosts = resolveEgress(parsed.spec, namespace);
  return hosts === undefined ? {} : { egress: hosts };
}

const PodYaml = z.array(
  z.object({
    namespace: z.string(),
    name: z.string(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
);

/** Optional `workloads.yaml`: Pods behind endpoints, as the Kubernetes source supplies them. */
export function parseWorkloads(text: string): WorkloadFacts[] {
  return PodYaml.parse(YAML.parse(text)).map(workloadFacts);
}

export interface Scenario {
  readonly objects: ConfigObject[];
  readonly workloads: WorkloadFacts[];
  readonly model: MeshModel;
  readonly proxy: ProxyInfo;
}

export function loadScenario(dir: string): Scenario {
  const objects = parseDocuments(readFileSync(join(dir, 'input.yaml'), 'utf8'));
  const workloadsFile = join(dir, 'workloads.yaml');
  const workloads = existsSync(workloadsFile) ? parseWorkloads(readFileSync(workloadsFile, 'utf8')) : [];
  return { objects, workloads, model: buildModel(objects, { workloads }), proxy: parseProxy(readFileSync(join(dir, 'proxy.yaml'), 'utf8')) };
}

const LEADING_KEYS = ['@type', 'name'];

/** `@type`, then `name`, first in every object: a reviewer sees what a thing is before its fields. */
function typeFirst(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(typeFirst);
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const rank = (k: string) => (LEADING_KEYS.includes(k) ? LEADING_KEYS.indexOf(k) : LEADING_KEYS.length);
  const keys = Object.keys(obj).sort((a, b) => rank(a) - rank(b));
  return Object.fromEntries(keys.map((k) => [k, typeFirst(obj[k])]));
}

function render<D extends DescMessage>(schema: D, messages: readonly MessageShape<D>[]): string {
  const json = messages.map((m) => typeFirst(toJson(schema, m, { registry: envoyRegistry })));
  return YAML.stringify(json, { lineWidth: 0 });
}

export const GOLDEN_TYPES = ['clusters', 'endpoints', 'listeners', 'routes'] as const;
export type GoldenType = (typeof GOLDEN_TYPES)[number];

export function renderSet(set: ResourceSet): Record<GoldenType, string> {
  return {
    clusters: render(ClusterSchema, set.clusters),
    endpoints: render(ClusterLoadAssignmentSchema, set.endpoints),
    listeners: render(ListenerSchema, set.listeners),
    routes: render(RouteConfigurationSchema, set.routes),
  };
}
