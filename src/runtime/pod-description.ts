// `weftctl describe pod`: what of the mesh model shapes one Pod's traffic. Pure: the model and
// the Pod's facts in, a description out. Inbound: the Services selecting the Pod, per port the
// mTLS mode and the PeerAuth (and level) that decided it. Outbound: the Pod's egress scope
// (weft.dev/egress on the Pod or its Namespace; docs/scale.md) and the splits and retry
// policies of the Services in it — without a scope, of every Service of the mesh.
import { egressSelects, egressText, type EgressDecision } from '../api/egress.ts';
import { mtlsDecision, type MtlsDecision } from '../model/mtls.ts';
import type { MeshModel, PolicyStatus } from '../model/types.ts';

export interface PodDescription {
  readonly pod: string;
  readonly identity: string;
  readonly sidecar: boolean;
  readonly inbound: readonly {
    readonly service: string;
    readonly port: number;
    readonly targetPort: number | string;
    readonly protocol: string;
    readonly mtls: MtlsDecision;
  }[];
  /** The Pod's egress scope and where it came from. */
  readonly egress: { readonly scope: string; readonly source: EgressDecision['source'] };
  readonly outbound: readonly { readonly service: string; readonly policy: string; readonly summary: string }[];
  /** Every Weft policy in the Pod's namespace with its Accepted condition. */
  readonly policies: readonly { readonly policy: string; readonly accepted: string; readonly summary: string }[];
}

export interface PodInput {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly identity: string;
  readonly sidecar: boolean;
  /** decideEgress over the Pod's and its Namespace's annotations (absent: unscoped). */
  readonly egress?: EgressDecision;
}

const selects = (selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

export function describePod(model: MeshModel, pod: PodInput): PodDescription {
  const statusOf = new Map<string, PolicyStatus>(model.statuses.map((s) => [`${s.kind} ${s.key}`, s]));
  const summary = (kind: string, key: string) => statusOf.get(`${kind} ${key}`)?.summary ?? '';
  const inbound = [...model.services.values()]
    .filter((s) => s.namespace === pod.namespace && selects(s.selector, pod.labels))
    .flatMap((s) =>
      s.ports.map((p) => ({
        service: `${s.namespace}/${s.name}`,
        port: p.port,
        targetPort: p.targetPort,
        protocol: p.appProtocol,
        mtls: mtlsDecision(model, pod, typeof p.targetPort === 'number' ? p.targetPort : undefined),
      })),
    );
  const egress = pod.egress ?? { source: 'none' };
  const outbound = [...model.services.values()]
    .filter((s) => egressSelects(egress.hosts, s.namespace, s.name))
    .flatMap((s) => [
      ...(s.split ? [{ service: `${s.namespace}/${s.name}`, policy: `TrafficSplit ${s.split.policy}`, summary: summary('TrafficSplit', s.split.policy) }] : []),
      ...(s.retry ? [{ service: `${s.namespace}/${s.name}`, policy: `RetryPolicy ${s.retry.policy}`, summary: summary('RetryPolicy', s.retry.policy) }] : []),
    ]);
  const policies = model.statuses
    .filter((s) => s.key.startsWith(`${pod.namespace}/`))
    .map((s) => {
      const acc = s.conditions.find((c) => c.type === 'Accepted');
      return { policy: `${s.kind} ${s.key}`, accepted: acc ? `${acc.status}/${acc.reason}` : 'Unknown', summary: s.summary };
    });
  return {
    pod: `${pod.namespace}/${pod.name}`,
    identity: pod.identity,
    sidecar: pod.sidecar,
    inbound,
    egress: { scope: egressText(egress.hosts), source: egress.source },
    outbound,
    policies,
  };
}

export function formatPodDescription(d: PodDescription): string {
  const lines = [
    `Pod:       ${d.pod}`,
    `Identity:  ${d.identity}`,
    `Sidecar:   ${d.sidecar ? 'yes' : 'no (restart the Pod in a labelled namespace to mesh it)'}`,
    '',
    'Inbound (Services selecting the Pod):',
  ];
  if (d.inbound.length === 0) lines.push('  none');
  for (const i of d.inbound) {
    const by = i.mtls.policy ? `PeerAuth ${i.mtls.policy}, ${i.mtls.level} level` : 'no PeerAuth: the default';
    lines.push(`  ${i.service} port ${i.port} → ${i.targetPort} (${i.protocol}): mTLS ${i.mtls.mode} (${by})`);
  }
  lines.push('', `Egress:    ${egressLine(d.egress)}`);
  lines.push('', d.egress.scope === '*/*' ? 'Outbound (every proxy routes by these):' : 'Outbound (the Services in its egress scope):');
  if (d.outbound.length === 0) lines.push('  none');
  for (const o of d.outbound) lines.push(`  ${o.service}: ${o.policy}${o.summary ? ` — ${o.summary}` : ''}`);
  lines.push('', `Weft policies in namespace ${d.pod.split('/')[0]}:`);
  if (d.policies.length === 0) lines.push('  none');
  for (const p of d.policies) lines.push(`  ${p.policy}  ${p.accepted}${p.summary ? `  ${p.summary}` : ''}`);
  return `${lines.join('\n')}\n`;
}

const EGRESS_SOURCES: Record<EgressDecision['source'], string> = {
  pod: "the Pod's weft.dev/egress",
  namespace: "its Namespace's weft.dev/egress",
  default: "the controller's --egress-default",
  none: 'no weft.dev/egress on the Pod or its Namespace, so every Service unless the controller runs with --egress-default',
};

function egressLine(e: PodDescription['egress']): string {
  return `${e.scope === '*/*' ? 'every Service' : e.scope} (${EGRESS_SOURCES[e.source]})`;
}
