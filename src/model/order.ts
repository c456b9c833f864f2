// Deterministic orderings used wherever the model must pick a winner.
import { compareStrings } from '../base/order.ts';

interface Meta {
  readonly metadata: { readonly namespace: string; readonly name: string; readonly creationTimestamp?: string };
}

function created(o: Meta): number {
  const t = o.metadata.creationTimestamp === undefined ? NaN : Date.parse(o.metadata.creationTimestamp);
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
}

/**
 * Conflict precedence (Gateway API's rule): the oldest object wins, then the first by
 * namespace/name. Objects without a creationTimestamp (file source) count as newest.
 */
export function byPrecedence(a: Meta, b: Meta): number {
  const ta = created(a);
  const tb = created(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return compareStrings(a.metadata.namespace, b.metadata.namespace) || compareStrings(a.metadata.name, b.metadata.name);
}
