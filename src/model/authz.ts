// AuthorizationPolicy resolution and the effective rules of one workload.
//
// Policies never conflict: every accepted policy that applies to a workload contributes its
// rules (the mesh-wide ones from the control-plane namespace, the namespace-wide ones, and
// those targeting a Service the workload backs). A request is then judged in this order:
//   1. any deny rule matches              → denied (deny wins over allow);
//   2. any allow rule matches             → allowed;
//   3. otherwise the default: denied when any applicable policy has an allow rule or says
//      defaultAction: Deny, allowed otherwise. No policy can reopen what another closed.
// Dry-run policies are left out of the enforced set and judged only in the "as if
// enforced" set, which translation turns into Envoy shadow rules.
import type { AuthorizationPolicyObject } from '../api/objects.ts';
import { canonicalJson } from './canonical.ts';
import { accepted, condition, refsResolved, statusOf } from './conditions.ts';
import { regexProblem } from './regex.ts';
import { serviceKey } from './services.ts';
import { compareStrings } from '../base/order.ts';
import type { AuthzPolicy, AuthzRule, MeshModel, MeshService, ObjectKey, PolicyStatus } from './types.ts';

type Rule = NonNullable<AuthorizationPolicyObject['spec']['allow']>[number];

function ruleOf(r: Rule): AuthzRule {
  const sorted = (xs: readonly string[] | undefined) => [...(xs ?? [])].sort(compareStrings);
  return {
    ...(r.from
      ? {
          from: {
            serviceAccounts: sorted(r.from.serviceAccounts),
            namespaces: sorted(r.from.namespaces),
            mesh: r.from.mesh,
            unauthenticated: r.from.unauthenticated,
          },
        }
      : {}),
    ...(r.to
      ? {
          to: {
            paths: sorted(r.to.paths),
            methods: sorted(r.to.methods),
            headers: (r.to.headers ?? []).map((h) => ({ name: h.name.toLowerCase(), type: h.type, value: h.value })),
            ports: [...(r.to.ports ?? [])].sort((a, b) => a - b),
          },
        }
      : {}),
  };
}

/** A rule both allowed and denied (deny would win: the allow is dead), as a field path and a reason. */
function conflictError(ap: AuthorizationPolicyObject): string | undefined {
  const allowed = new Map((ap.spec.allow ?? []).map((r, i) => [canonicalJson(ruleOf(r)), i] as const));
  for (const [i, r] of (ap.spec.deny ?? []).entries()) {
    const j = allowed.get(canonicalJson(ruleOf(r)));
    if (j !== undefined) return `spec.deny[${i}]: the same rule as spec.allow[${j}] (deny would win; remove one)`;
  }
  return undefined;
}

/** The first header regular expression RE2 cannot run, as a field path and a reason. */
function regexError(ap: AuthorizationPolicyObject): string | undefined {
  for (const list of ['deny', 'allow'] as const) {
    for (const [i, r] of (ap.spec[list] ?? []).entries()) {
      for (const [j, h] of (r.to?.headers ?? []).entries()) {
        const problem = h.type === 'RegularExpression' ? regexProblem(h.value) : undefined;
        if (problem) return `spec.${list}[${i}].to.headers[${j}].value: ${problem}`;
      }
    }
  }
  return undefined;
}

export function resolveAuthorizations(
  objects: readonly AuthorizationPolicyObject[],
  services: ReadonlyMap<ObjectKey, MeshService>,
  controlPlaneNamespace: string,
): { policies: AuthzPolicy[]; statuses: PolicyStatus[] } {
  const policies: AuthzPolicy[] = [];
  const statuses: PolicyStatus[] = [];
  for (const ap of objects) {
    const ns = ap.metadata.namespace;
    const target = ap.spec.targetRef?.name;
    const meshWide = target === undefined && ns === controlPlaneNamespace;
    const scope =
      target !== undefined ? `the workloads behind Service ${ns}/${target}` : meshWide ? 'every workload in the mesh' : `every workload in namespace ${ns}`;
    const exists = target === undefined || services.has(serviceKey(ns, target));
    const conflict = conflictError(ap);
    const badRegex = regexError(ap);
    const refs = exists
      ? refsResolved(target === undefined ? 'AuthorizationPolicy references no other objects' : `Target Service ${ns}/${target} exists`)
      : condition('ResolvedRefs', false, 'TargetNotFound', `Service ${ns}/${target} not found; the policy is not applied`);
    const acc = conflict
      ? condition('Accepted', false, 'ConflictingRules', `AuthorizationPolicy ${ns}/${ap.metadata.name}: ${conflict}`)
      : badRegex
        ? condition('Accepted', false, 'InvalidRegex', `AuthorizationPolicy ${ns}/${ap.metadata.name}: ${badRegex}`)
        : exists
          ? accepted(`AuthorizationPolicy ${ap.spec.dryRun ? 'is recorded (dry run) for' : 'applies to'} ${scope}`)
          : condition('Accepted', false, 'TargetNotFound', `Service ${ns}/${target} not found; the policy is applied once the Service exists`);
    statuses.push(statusOf(ap, [acc, refs]));
    if (conflict || badRegex || !exists) continue;
    const allow = (ap.spec.allow ?? []).map(ruleOf);
    policies.push({
      policy: `${ns}/${ap.metadata.name}`,
      namespace: ns,
      meshWide,
      ...(target === undefined ? {} : { service: target }),
      dryRun: ap.spec.dryRun,
      defaultDeny: ap.spec.defaultAction === 'Deny' || allow.length > 0,
      deny: (ap.spec.deny ?? []).map(ruleOf),
      allow,
    });
  }
  policies.sort((a, b) => compareStrings(a.policy, b.policy));
  return { policies, statuses };
}

/** A rule with the policy it came from (its name in Envoy stats, logs and 403 details). */
export interface NamedRule {
  readonly name: string;
  readonly rule: AuthzRule;
}

/** The rules one workload enforces (or would, for the shadow set). */
export interface AuthzSet {
  readonly deny: readonly NamedRule[];
  readonly allow: readonly NamedRule[];
  readonly defaultDeny: boolean;
}

/** What a workload enforces, and what it would enforce were its dry-run policies enforced. */
export interface WorkloadAuthz {
  readonly enforced: AuthzSet;
  /** Present only when a dry-run policy applies. */
  readonly dryRun?: AuthzSet;
}

function setOf(policies: readonly AuthzPolicy[]): AuthzSet {
  const named = (list: 'deny' | 'allow') => policies.flatMap((p) => p[list].map((rule, i) => ({ name: `${p.policy}:${list}[${i}]`, rule })));
  return { deny: named('deny'), allow: named('allow'), defaultDeny: policies.some((p) => p.defaultDeny) };
}

/**
 * The authorization of a workload in `namespace` backing `services` (names in that
 * namespace); undefined when no policy applies (nothing to enforce, no filter to add).
 */
export function workloadAuthz(model: Pick<MeshModel, 'authorizations'>, namespace: string, services: readonly string[]): WorkloadAuthz | undefined {
  const applies = model.authorizations.filter((p) => p.meshWide || (p.namespace === namespace && (p.service === undefined || services.includes(p.service))));
  if (applies.length === 0) return undefined;
  const enforced = setOf(applies.filter((p) => !p.dryRun));
  return applies.some((p) => p.dryRun) ? { enforced, dryRun: setOf(applies) } : { enforced };
}
