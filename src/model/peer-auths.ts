// PeerAuth resolution. Istio semantics: at most one namespace-wide policy per namespace
// (the one in the control-plane namespace is mesh-wide), and where several selector
// policies select the same workload the oldest wins — so the output is ordered by
// precedence within each namespace and effectiveMtls takes the first match.
import type { PeerAuthObject } from '../api/objects.ts';
import { accepted, conflicted, groupByPrecedence, refsResolved, statusOf } from './conditions.ts';
import { canonicalJson } from './canonical.ts';
import { compareStrings } from '../base/order.ts';
import { byPrecedence } from './order.ts';
import type { MtlsMode, PeerAuthPolicy, PolicyStatus } from './types.ts';

function mode(m: { mode: string } | undefined): MtlsMode | undefined {
  return m && m.mode !== 'UNSET' ? (m.mode as MtlsMode) : undefined;
}

function policyOf(pa: PeerAuthObject, meshWide: boolean): PeerAuthPolicy {
  const portModes: Record<number, MtlsMode> = {};
  for (const [port, m] of Object.entries(pa.spec.portLevelMtls ?? {})) {
    const pm = mode(m);
    if (pm) portModes[Number(port)] = pm;
  }
  const selector = pa.spec.selector?.matchLabels;
  const own = mode(pa.spec.mtls);
  return {
    policy: `${pa.metadata.namespace}/${pa.metadata.name}`,
    namespace: pa.metadata.namespace,
    meshWide,
    ...(selector ? { selector } : {}),
    ...(own ? { mode: own } : {}),
    portModes,
  };
}

export function resolvePeerAuths(objects: readonly PeerAuthObject[], controlPlaneNamespace: string): { policies: PeerAuthPolicy[]; statuses: PolicyStatus[] } {
  const policies: PeerAuthPolicy[] = [];
  const statuses: PolicyStatus[] = [];
  // Policies with the same scope (same namespace and identical selector, or none) conflict.
  const scopeOf = (pa: PeerAuthObject) => `${pa.metadata.namespace} ${canonicalJson(pa.spec.selector?.matchLabels ?? null)}`;
  for (const group of groupByPrecedence(objects, scopeOf, byPrecedence).values()) {
    const [winner] = group;
    for (const pa of group) {
      const ns = pa.metadata.namespace;
      const meshWide = ns === controlPlaneNamespace && !pa.spec.selector;
      const scope = meshWide ? 'the whole mesh' : pa.spec.selector ? `selected workloads in namespace ${ns}` : `namespace ${ns}`;
      if (pa === winner) {
        policies.push(policyOf(pa, meshWide));
        statuses.push(statusOf(pa, [accepted(`PeerAuth applies to ${scope}`), refsResolved('PeerAuth references no other objects')]));
      } else {
        const msg = `PeerAuth ${ns}/${winner?.metadata.name} already applies to ${scope} (older, or first by name); this policy is not applied`;
        statuses.push(statusOf(pa, [conflicted(msg), refsResolved('PeerAuth references no other objects')]));
      }
    }
  }
  // Namespace order for determinism, precedence within a namespace for effectiveMtls.
  const rank = new Map([...objects].sort(byPrecedence).map((pa, i) => [`${pa.metadata.namespace}/${pa.metadata.name}`, i] as const));
  policies.sort((a, b) => compareStrings(a.namespace, b.namespace) || (rank.get(a.policy) ?? 0) - (rank.get(b.policy) ?? 0));
  return { policies, statuses };
}
