// What one subscription sees of a snapshot, and what changed between two such views.
// Everything here is memoized on object identity (interned type maps and subscriptions),
// so 10,000 streams of one group share one view, one diff and one encoded response, and
// per-stream state is a handful of references.
import { createInternPool } from '../snapshot/intern.ts';
import { hashResourceVersions } from '../snapshot/hash.ts';
import type { EncodedResource } from '../snapshot/types.ts';
import { compareStrings } from '../../src/base/order.ts';

/** A subscription for one type: `*` (wildcard) and/or explicit names. Interned: compare with ===. */
export interface Subscription {
  readonly wildcard: boolean;
  readonly names: ReadonlySet<string>;
}

/** What a client holds (or will hold) for one type: name → version. */
export type Known = ReadonlyMap<string, { readonly version: string }>;

export interface View {
  readonly resources: ReadonlyMap<string, EncodedResource>;
  /** Hash over the names and versions in `resources`: the SotW version_info. */
  readonly version: string;
}

export interface ViewDiff {
  /** Resources in the view that are new or have another version than the client holds. */
  readonly changed: readonly EncodedResource[];
  /** Names the client holds that are not in the view. */
  readonly removed: readonly string[];
}

const subscriptions = createInternPool<Subscription>();

export function subscription(wildcard: boolean, names: Iterable<string>): Subscription {
  const sorted = [...new Set(names)].filter((n) => n !== '*').sort();
  const key = `${wildcard ? '*' : '-'}${JSON.stringify(sorted)}`; // names are opaque: no separator is safe
  return subscriptions.intern(key, () => ({ wildcard, names: new Set(sorted) }));
}

export const noSubscription: Subscription = subscription(false, []);
/** `*` alone: what every SotW CDS/LDS ACK asks for (kept, so ACKs skip interning it). */
export const wildcardSubscription: Subscription = subscription(true, []);

const wildcardViews = new WeakMap<ReadonlyMap<string, EncodedResource>, View>();
const namedViews = new WeakMap<ReadonlyMap<string, EncodedResource>, WeakMap<Subscription, View>>();

export function viewOf(typeMap: ReadonlyMap<string, EncodedResource>, sub: Subscription): View {
  if (sub.wildcard) return wildcardView(typeMap);
  let bySub = namedViews.get(typeMap);
  if (bySub === undefined) namedViews.set(typeMap, (bySub = new WeakMap()));
  let view = bySub.get(sub);
  if (view === undefined) {
    const resources = new Map<string, EncodedResource>();
    for (const name of sub.names) {
      const r = typeMap.get(name);
      if (r !== undefined) resources.set(name, r);
    }
    // Subscribed to everything there is: share the wildcard view (and its encodings).
    view = resources.size === typeMap.size ? wildcardView(typeMap) : { resources, version: hashResourceVersions(resources.values()) };
    bySub.set(sub, view);
  }
  return view;
}

function wildcardView(typeMap: ReadonlyMap<string, EncodedResource>): View {
  let view = wildcardViews.get(typeMap);
  if (view === undefined) {
    view = { resources: typeMap, version: hashResourceVersions(typeMap.values()) };
    wildcardViews.set(typeMap, view);
  }
  return view;
}

const diffs = new WeakMap<Known, WeakMap<View, ViewDiff>>();

export function diffView(from: Known | undefined, to: View): ViewDiff {
  if (from === undefined) return { changed: [...to.resources.values()], removed: [] };
  let byTo = diffs.get(from);
  if (byTo === undefined) diffs.set(from, (byTo = new WeakMap()));
  let diff = byTo.get(to);
  if (diff === undefined) {
    const changed: EncodedResource[] = [];
    for (const r of to.resources.values()) {
      if (from.get(r.name)?.version !== r.version) changed.push(r);
    }
    const removed = [...from.keys()].filter((name) => !to.resources.has(name)).sort();
    diff = { changed, removed };
    byTo.set(to, diff);
  }
  return diff;
}

const unions = new WeakMap<ReadonlyMap<string, EncodedResource>, WeakMap<View, View>>();

/** The view's resources plus those of `from` it dropped: make-before-break for full-state types. */
export function unionView(from: ReadonlyMap<string, EncodedResource>, to: View): View {
  let byTo = unions.get(from);
  if (byTo === undefined) unions.set(from, (byTo = new WeakMap()));
  let union = byTo.get(to);
  if (union === undefined) byTo.set(to, (union = makeUnion(from, to)));
  return union;
}

function makeUnion(from: ReadonlyMap<string, EncodedResource>, to: View): View {
  const resources = new Map(to.resources);
  for (const [name, r] of from) if (!resources.has(name)) resources.set(name, r);
  const sorted = new Map([...resources].sort(([a], [b]) => compareStrings(a, b)));
  return { resources: sorted, version: hashResourceVersions(sorted.values()) };
}
