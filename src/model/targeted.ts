// Resolution shared by policies that attach to one Service through spec.targetRef
// (GEP-713 policy attachment): one policy per target (oldest wins, the rest Conflicted),
// the target must exist in the policy's namespace, and a policy may report its own
// problems (an unsupported regular expression) that keep it from being applied.
import type { WeftPolicyObject } from '../api/objects.ts';
import { accepted, condition, conflicted, groupByPrecedence, refsResolved, statusOf } from './conditions.ts';
import { byPrecedence } from './order.ts';
import { serviceKey } from './services.ts';
import type { MeshService, ObjectKey, PolicyStatus } from './types.ts';

type Targeting = WeftPolicyObject & { readonly spec: { readonly targetRef: { readonly name: string } } };

export interface TargetedOptions<P extends Targeting, R> {
  /** What the winner does to its target, for the Accepted message. */
  readonly effect: (target: string) => string;
  /** Problems the CRD cannot express, each `field: why`; any of them keeps the policy out. */
  readonly problems?: (p: P) => string[];
  readonly resolve: (p: P) => R;
}

export function resolveTargeted<P extends Targeting, R>(
  policies: readonly P[],
  services: ReadonlyMap<ObjectKey, MeshService>,
  opts: TargetedOptions<P, R>,
): { applied: Map<ObjectKey, R>; statuses: PolicyStatus[] } {
  const applied = new Map<ObjectKey, R>();
  const statuses: PolicyStatus[] = [];
  const groups = groupByPrecedence(policies, (p) => serviceKey(p.metadata.namespace, p.spec.targetRef.name), byPrecedence);
  for (const [target, group] of groups) {
    const [winner] = group;
    const exists = services.has(target as ObjectKey);
    for (const p of group) {
      const refs = exists
        ? refsResolved(`Target Service ${target} exists`)
        : condition('ResolvedRefs', false, 'TargetNotFound', `Service ${target} not found; the policy is not applied`);
      const invalid = opts.problems?.(p) ?? [];
      let acc;
      if (p !== winner) {
        acc = conflicted(
          `Service ${target} is already targeted by ${p.kind} ${p.metadata.namespace}/${winner?.metadata.name} (older, or first by name); this policy is not applied`,
        );
      } else if (invalid.length > 0) {
        acc = condition('Accepted', false, 'UnsupportedValue', `${invalid.join('; ')}; the policy is not applied`);
      } else if (!exists) {
        acc = condition('Accepted', false, 'TargetNotFound', `Service ${target} not found; the policy is applied once the Service exists`);
      } else {
        acc = accepted(`${p.kind} ${opts.effect(target)}`);
        applied.set(target as ObjectKey, opts.resolve(p));
      }
      statuses.push(statusOf(p, [acc, refs]));
    }
  }
  return { applied, statuses };
}
