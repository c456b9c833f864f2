// Bounds on what one client may make a stream hold, as data: the server checks each request
// against them before the reducer takes it, so a stream's state (and what is memoized from
// it) stays proportional to the limits, never to what a client chooses to send. Pure.
import type { TypeState } from './state.ts';
import type { Known } from './views.ts';

export interface SubscriptionLimits {
  /** Names one type may hold on a stream: subscribed, plus (Delta) waiting for an answer. */
  readonly maxNames: number;
  /** Characters (UTF-16 code units) in one resource name. */
  readonly maxNameLength: number;
}

export const defaultSubscriptionLimits: SubscriptionLimits = { maxNames: 50_000, maxNameLength: 1024 };

export interface LimitViolation {
  /** Metric label. */
  readonly limit: 'subscribed_names' | 'name_length';
  readonly message: string;
}

// Names arrays the request decoder shares are frozen and repeat on every ACK of a group (a SotW
// ACK names the whole subscription): their longest name is measured once.
const longestOf = new WeakMap<readonly string[], number>();

function longest(names: readonly string[]): number {
  let max = longestOf.get(names);
  if (max !== undefined) return max;
  max = 0;
  for (const n of names) if (n.length > max) max = n.length;
  if (Object.isFrozen(names)) longestOf.set(names, max);
  return max;
}

function tooLong(limits: SubscriptionLimits, lists: readonly (readonly string[])[]): LimitViolation | undefined {
  for (const names of lists) {
    const n = longest(names);
    if (n > limits.maxNameLength) return { limit: 'name_length', message: `resource name of ${n} characters: at most ${limits.maxNameLength} allowed` };
  }
  return undefined;
}

function tooMany(limits: SubscriptionLimits, count: number): LimitViolation | undefined {
  return count > limits.maxNames
    ? { limit: 'subscribed_names', message: `${count} resource names for one type: at most ${limits.maxNames} allowed` }
    : undefined;
}

/** SotW: a request carries the whole subscription. */
export function checkSotwNames(limits: SubscriptionLimits, names: readonly string[]): LimitViolation | undefined {
  return tooMany(limits, names.length) ?? tooLong(limits, [names]);
}

/** Delta: the subscription after the request, plus the names still owed an answer. */
export function checkDeltaNames(
  limits: SubscriptionLimits,
  st: TypeState<Known> | undefined,
  subscribe: readonly string[],
  unsubscribe: readonly string[],
  initial: readonly string[],
): LimitViolation | undefined {
  const long = tooLong(limits, [subscribe, unsubscribe, initial]);
  if (long !== undefined) return long;
  if (st === undefined) return tooMany(limits, Math.max(initial.length, subscribe.length));
  const names = st.sub.names;
  let added = 0;
  for (const n of subscribe) if (!names.has(n)) added++;
  // Unsubscribes can only shrink the set; forced names wait for the next answer.
  return tooMany(limits, names.size + added) ?? tooMany(limits, (st.forced?.size ?? 0) + subscribe.length + unsubscribe.length);
}
