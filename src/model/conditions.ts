// Status conditions the model computes for Weft custom resources. Reasons are
// CamelCase (Gateway API style); messages are sentences for humans.
import type { Condition, PolicyStatus } from './types.ts';
import type { WeftPolicyObject } from '../api/objects.ts';
import { summaryOf } from './summary.ts';

export function condition(type: Condition['type'], ok: boolean, reason: string, message: string): Condition {
  return { type, status: ok ? 'True' : 'False', reason, message };
}

export const accepted = (message: string): Condition => condition('Accepted', true, 'Accepted', message);
export const conflicted = (message: string): Condition => condition('Accepted', false, 'Conflicted', message);
export const refsResolved = (message: string): Condition => condition('ResolvedRefs', true, 'ResolvedRefs', message);

/**
 * Accepted=False reasons another object can cure: the missing Service created later, the
 * older rival deleted. Admission warns about these instead of denying (GitOps tools apply
 * a TrafficSplit and its Service in any order); every other Accepted=False is final.
 */
export const CURABLE_REASONS: ReadonlySet<string> = new Set(['Conflicted', 'ServiceNotFound', 'TargetNotFound']);

export function statusOf(o: WeftPolicyObject, conditions: readonly Condition[]): PolicyStatus {
  return {
    kind: o.kind,
    key: `${o.metadata.namespace}/${o.metadata.name}`,
    ...(o.metadata.generation === undefined ? {} : { generation: o.metadata.generation }),
    conditions,
    summary: summaryOf(o),
  };
}

/** Groups objects by a key and orders each group by precedence, winner first. */
export function groupByPrecedence<T>(items: readonly T[], keyOf: (item: T) => string, compare: (a: T, b: T) => number): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  for (const list of groups.values()) list.sort(compare);
  return groups;
}
