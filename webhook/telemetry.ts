// The telemetry a Pod's sidecar gets (docs/telemetry.md), resolved at injection like the
// capture settings: a Pod annotation wins over the same key as a Namespace label, which wins
// over the mesh-wide chart value. A bad value is a warning and falls through to the next level.
import type { ProxyTelemetry } from '../xds/bootstrap/telemetry.ts';
import type { Pod } from './pod.ts';
import { Annotations, type InjectValues } from './values.ts';

/**
 * The workload a Pod belongs to: `app.kubernetes.io/name`, else `app`, else the owner's name
 * (the generateName without the ReplicaSet's pod-template-hash), else the Pod's name.
 */
export function workloadName(pod: Pod): string {
  const labels = pod.metadata?.labels ?? {};
  const named = labels['app.kubernetes.io/name'] ?? labels.app;
  if (named) return named;
  const gen = pod.metadata?.generateName;
  if (gen) {
    const hash = labels['pod-template-hash'];
    const base = hash && gen.endsWith(`-${hash}-`) ? gen.slice(0, -(hash.length + 2)) : gen.replace(/-$/, '');
    if (base) return base;
  }
  return pod.metadata?.name ?? 'unknown';
}

function pick<T>(
  key: string,
  parse: (raw: string) => T | undefined,
  sources: readonly [string, Readonly<Record<string, string>>][],
  warnings: string[],
): T | undefined {
  for (const [where, values] of sources) {
    const raw = values[key];
    if (raw === undefined) continue;
    const v = parse(raw.trim());
    if (v !== undefined) return v;
    warnings.push(`${where} ${key}: "${raw}" is not valid; ignored`);
  }
  return undefined;
}

const bool = (s: string) => (s === 'true' ? true : s === 'false' ? false : undefined);
const percent = (s: string) => (/^\d{1,3}(\.\d+)?$/.test(s) && Number(s) <= 100 ? Number(s) : undefined);

export function podTelemetry(
  pod: Pod,
  namespace: string,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
  v: InjectValues,
  warnings: string[],
): ProxyTelemetry {
  const sources: [string, Readonly<Record<string, string>>][] = [
    ['annotation', pod.metadata?.annotations ?? {}],
    ['namespace label', namespaceLabels ?? {}],
  ];
  const accessLog = pick(Annotations.accessLog, bool, sources, warnings) ?? v.telemetry.accessLog;
  const sampling = pick(Annotations.traceSampling, percent, sources, warnings) ?? v.telemetry.tracing.sampling;
  const sa = pod.spec.serviceAccountName ?? 'default';
  const endpoint = v.telemetry.tracing.endpoint;
  return {
    workload: workloadName(pod),
    ...(v.trustDomain ? { identity: `spiffe://${v.trustDomain}/ns/${namespace}/sa/${sa}` } : {}),
    ...(accessLog ? { accessLog } : {}),
    ...(endpoint !== undefined && sampling > 0 ? { otlpAddress: endpoint, traceSampling: sampling } : {}),
  };
}
