// Egress scope: which Services a sidecar calls, so it is sent only their outbound config
// (listener chains, clusters, route configurations, endpoints) instead of the whole mesh's.
// Not a security boundary: traffic to a Service outside the scope still leaves the Pod through
// the passthrough path (docs/scale.md, "Egress scope").
//
//   weft.dev/egress: "shop/*, payments/billing, ./*"
//
// A list of `<namespace>/<service>` separated by commas and/or whitespace. The namespace is a
// DNS-1123 label, `*` (every namespace) or `.` (the proxy's own); the service is a DNS-1123
// label or `*` (every service of that namespace). `*/*` selects everything: the same as no
// annotation, and the proxy gets exactly the unscoped configuration.
//
// The value is user input (a Pod or Namespace annotation, node metadata, a flag): parsed here
// once, then resolved per proxy namespace into a canonical, sorted list (part of the group key).
import { z } from 'zod';
import { DNS1123_LABEL, DNS_LABEL_MAX } from './bounds.ts';
import { compareStrings } from '../base/order.ts';

export const EGRESS_ANNOTATION = 'weft.dev/egress';
/** Node metadata key carrying the same syntax for proxies outside Kubernetes (`weft bootstrap --egress`). */
export const EGRESS_METADATA_KEY = 'WEFT_EGRESS';

export const EgressBounds = { maxLength: 4096, maxEntries: 256 } as const;

export interface EgressEntry {
  /** A namespace, `*` or `.` (the proxy's own). */
  readonly namespace: string;
  /** A service name or `*`. */
  readonly service: string;
}

/** A parsed value, not yet resolved against a proxy's namespace. */
export type EgressSpec = readonly EgressEntry[];

function segment(s: string, what: string, extra: readonly string[]): string | undefined {
  if (extra.includes(s)) return undefined;
  if (s.length > DNS_LABEL_MAX) return `${what} "${s}" is longer than ${DNS_LABEL_MAX} characters`;
  if (!DNS1123_LABEL.test(s)) return `${what} "${s}" must be a DNS-1123 label${extra.length ? ` or ${extra.map((e) => `"${e}"`).join(' or ')}` : ''}`;
  return undefined;
}

const entry = z.string().transform((text, ctx): EgressEntry => {
  const parts = text.split('/');
  if (parts.length !== 2) {
    const hint = parts.length === 1 ? ` (use "./${text}" for a service of the proxy's own namespace)` : '';
    ctx.addIssue({ code: 'custom', message: `"${text}" is not <namespace>/<service>${hint}` });
    return z.NEVER;
  }
  const [namespace = '', service = ''] = parts;
  const problem = segment(namespace, 'namespace', ['*', '.']) ?? segment(service, 'service', ['*']);
  if (problem !== undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}": ${problem}` });
    return z.NEVER;
  }
  return { namespace, service };
});

const EgressValue = z
  .string()
  .max(EgressBounds.maxLength, `must be at most ${EgressBounds.maxLength} characters`)
  .transform((s) => s.split(/[\s,]+/).filter((e) => e !== ''))
  .pipe(
    z
      .array(entry)
      .min(1, 'lists no service: give <namespace>/<service> entries (e.g. "shop/*, ./billing"), or remove it to receive every service')
      .max(EgressBounds.maxEntries, `lists more than ${EgressBounds.maxEntries} entries`),
  );

export type EgressParse = { ok: true; spec: EgressSpec } | { ok: false; reason: string };

/** Parses an annotation, metadata or flag value; the reason names the offending entry. */
export function parseEgress(value: unknown): EgressParse {
  const r = EgressValue.safeParse(value);
  if (r.success) return { ok: true, spec: r.data };
  return { ok: false, reason: r.error.issues.map((i) => i.message).join('; ') };
}

/**
 * The canonical scope of a proxy in `namespace`: sorted, deduplicated `ns/service` entries with
 * `.` resolved and entries covered by a wildcard dropped. Undefined when it selects everything
 * (`*` / `*`): such a proxy is unscoped.
 */
export function resolveEgress(spec: EgressSpec, namespace: string): readonly string[] | undefined {
  const resolved = new Set(spec.map((e) => `${e.namespace === '.' ? namespace : e.namespace}/${e.service}`));
  if (resolved.has('*/*')) return undefined;
  const kept = [...resolved].filter((e) => {
    const [ns = '', svc = ''] = e.split('/');
    if (svc !== '*' && resolved.has(`${ns}/*`)) return false;
    if (ns !== '*' && resolved.has(`*/${svc}`)) return false;
    return true;
  });
  return kept.sort(compareStrings);
}

/** Whether a resolved scope (undefined: everything) selects Service `namespace/name`. */
export function egressSelects(hosts: readonly string[] | undefined, namespace: string, name: string): boolean {
  if (hosts === undefined) return true;
  return hosts.some((h) => {
    const [ns = '', svc = ''] = h.split('/');
    return (ns === '*' || ns === namespace) && (svc === '*' || svc === name);
  });
}

/** The text form of a resolved scope (the annotation syntax), for logs, keys and `weftctl describe`. */
export function egressText(hosts: readonly string[] | undefined): string {
  return hosts === undefined ? '*/*' : hosts.join(', ');
}

/** Where a Pod's scope came from (`weftctl describe pod`, logs). */
export type EgressSource = 'pod' | 'namespace' | 'default' | 'none';

/** The scope the controller gives a Pod's sidecar; `hosts` absent: every Service. */
export interface EgressDecision {
  readonly source: EgressSource;
  readonly hosts?: readonly string[];
}

export interface EgressInputs {
  readonly namespace: string;
  /** The Pod's weft.dev/egress annotation, if any. */
  readonly pod?: string;
  /** Its Namespace's weft.dev/egress annotation, if any. */
  readonly namespaceValue?: string;
  /** The controller's --egress-default, already parsed. */
  readonly meshDefault?: EgressSpec;
}

export interface EgressProblem {
  readonly where: 'pod' | 'namespace';
  readonly value: string;
  readonly reason: string;
}

/**
 * The first of the Pod's annotation, its Namespace's and the mesh default that is set. An
 * invalid annotation never narrows anything: the proxy is unscoped (it receives every Service,
 * as without Weft's scoping) and the problem is returned for the caller to log. The webhook
 * refuses an invalid Pod annotation at admission, so on the Pod it only happens when the
 * webhook was bypassed; a Namespace annotation is not admitted by Weft and is checked here.
 */
export function decideEgress(input: EgressInputs): { decision: EgressDecision; problem?: EgressProblem } {
  const fromValue = (where: 'pod' | 'namespace', value: string) => {
    const p = parseEgress(value);
    if (!p.ok) return { decision: { source: where }, problem: { where, value, reason: p.reason } };
    const hosts = resolveEgress(p.spec, input.namespace);
    return { decision: hosts === undefined ? { source: where } : { source: where, hosts } };
  };
  if (input.pod !== undefined) return fromValue('pod', input.pod);
  if (input.namespaceValue !== undefined) return fromValue('namespace', input.namespaceValue);
  if (input.meshDefault !== undefined) {
    const hosts = resolveEgress(input.meshDefault, input.namespace);
    return { decision: hosts === undefined ? { source: 'default' } : { source: 'default', hosts } };
  }
  return { decision: { source: 'none' } };
}
