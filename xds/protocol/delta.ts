// Incremental (Delta). A request changes the subscription (subscribe / unsubscribe, `*`
// included) and may answer a response by nonce; the first one of a type says what the
// client already holds (initial_resource_versions). Per type the state tracks what the
// client holds (name → version): responses carry changed resources, and deletions go in
// removed_resources, in a later response than the additions.
import { typeOf, type TypeUrl } from '../resources/type-urls.ts';
import type { CachedSnapshot, EncodedResource } from '../snapshot/types.ts';
import { answerEarlier, answerLatest } from './ack.ts';
import { planTypes, pushStep, PushPlan } from './plan.ts';
import { newTypeState, withType, type ProtocolEvent, type RequestStep, type Response, type Step, type StreamState, type TypeState } from './state.ts';
import { diffView, subscription, viewOf, type Known, type Subscription, type View } from './views.ts';

export type DeltaState = StreamState<Known>;
type St = TypeState<Known>;

export interface DeltaRequest {
  readonly typeUrl: TypeUrl;
  readonly responseNonce: string;
  readonly subscribe: readonly string[];
  readonly unsubscribe: readonly string[];
  /** Honoured on the first request of a type only. */
  readonly initialVersions: Readonly<Record<string, string>>;
  readonly error?: string | undefined;
  /** Wall-clock time of the request (epoch ms). */
  readonly now: number;
}

const emptyTypeMap: ReadonlyMap<string, EncodedResource> = new Map();
const noneKnown: Known = new Map();
const noneForced: ReadonlySet<string> = new Set();

/** A request: ACK/NACK bookkeeping and the new subscription; whether it must be answered. */
export function deltaRequest(state: DeltaState, req: DeltaRequest): RequestStep<Known> {
  const { typeUrl, responseNonce, subscribe, unsubscribe } = req;
  let st = state.types.get(typeUrl);
  const first = st === undefined;
  const events: ProtocolEvent[] = [];
  if (st === undefined) {
    // What the client says it has is its ACKed state, and the diff basis.
    const initial = new Map(Object.entries(req.initialVersions).map(([n, version]) => [n, { version }]));
    const known = initial.size > 0 ? initial : noneKnown;
    st = { ...newTypeState<Known>(), basis: known, acked: known, mustRespond: false };
  } else if (responseNonce !== '') {
    const answer = { nonce: responseNonce, error: req.error, version: st.versionSent, now: req.now };
    const a = responseNonce === st.nonce ? answerLatest(typeUrl, st, answer) : answerEarlier(typeUrl, st, answer);
    st = a.st;
    if (a.event !== undefined) events.push(a.event);
  }
  // An ACK/NACK alone (what 10,000 streams send after each push) changes no subscription.
  if (!first && subscribe.length === 0 && unsubscribe.length === 0) return { state: withType(state, typeUrl, st), events };
  // Subscription changes apply whatever the nonce says: a stale nonce only voids the ACK/NACK.
  const before = st.sub;
  const added = onlySubscribes(before, subscribe, unsubscribe, first ? st.basis : undefined);
  if (added !== undefined) {
    const rewildcard = added.sub.wildcard && !before.wildcard;
    const forced = added.forced.size === 0 ? st.forced : st.forced === undefined ? added.forced : new Set([...st.forced, ...added.forced]);
    st = {
      ...st,
      explicit: true,
      sub: added.sub,
      ...(rewildcard ? { sent: undefined } : {}),
      ...(forced !== undefined ? { forced } : {}),
      ...(first ? { mustRespond: added.sub.wildcard } : {}),
    };
    const answer = first || added.forced.size > 0 || rewildcard;
    return { state: withType(state, typeUrl, st), events, ...(answer ? { answer: typeUrl } : {}) };
  }
  let wildcard = before.wildcard;
  const names = new Set(before.names);
  const forced = new Set<string>();
  if (first && subscribe.length === 0 && unsubscribe.length === 0 && typeOf(typeUrl).fullState) wildcard = true;
  for (const n of subscribe) {
    if (n === '*') wildcard = true;
    else {
      names.add(n);
      // The client may have forgotten what it still looks subscribed to: answer anyway. On the
      // first request, what it listed in initial_resource_versions is what it has.
      if (!first || !st.basis?.has(n)) forced.add(n);
    }
  }
  const forget: string[] = [];
  for (const n of unsubscribe) {
    if (n === '*') wildcard = false;
    else {
      names.delete(n);
      // Still wanted through `*`? Tell the client either way (resend, or removed).
      if (wildcard) forced.add(n);
      else forget.push(n);
    }
  }
  if (before.wildcard && !wildcard) {
    // Leaving `*`: the client forgets what it held only through it, as for a named unsubscribe.
    for (const map of [st.basis, st.pending, st.acked]) for (const n of map?.keys() ?? []) if (!names.has(n)) forget.push(n);
  }
  const rewildcard = wildcard && !before.wildcard;
  st = {
    ...st,
    explicit: st.explicit || subscribe.length > 0,
    sub: subscription(wildcard, names),
    // The client forgets what it unsubscribed from: drop it from every notion of its state.
    basis: without(st.basis, forget),
    pending: without(st.pending, forget),
    acked: without(st.acked, forget),
    // Back to `*`: diff against what the client holds, not against the view last sent.
    ...(rewildcard ? { sent: undefined } : {}),
    ...(forced.size > 0 ? { forced: new Set([...(st.forced ?? []), ...forced]) } : {}),
    ...(first ? { mustRespond: wildcard } : {}),
  };
  // ACK/NACK or unsubscribe only: nothing to answer.
  const answer = first || forced.size > 0 || rewildcard;
  return { state: withType(state, typeUrl, st), events, ...(answer ? { answer: typeUrl } : {}) };
}

/**
 * The answer to a request for `typeUrl`. What it changes may make another type resendable
 * (CLAs of changed clusters, say after a reconnect with initial versions): sent after it as
 * a push would, or owed until that type is subscribed.
 */
export function deltaAnswer(state: DeltaState, typeUrl: TypeUrl, snap: CachedSnapshot): Step<Known> {
  const plan = new PushPlan();
  const owed = state.owed.get(typeUrl);
  if (owed !== undefined) {
    plan.resend(typeUrl, owed);
    const rest = new Map(state.owed);
    rest.delete(typeUrl);
    state = { ...state, owed: rest };
  }
  const target = typeOf(typeUrl).resendOnChange;
  const subscribed = target !== undefined && state.types.has(target);
  // One batch: the requested type, then the target if (and only if) the answer made some of it resendable.
  const planIfResent: typeof planDelta = (t, st, s, p) => (t === typeUrl || p.resent(t).size > 0 ? planDelta(t, st, s, p) : st);
  const step = planTypes(state, snap, subscribed ? [typeUrl, target] : [typeUrl], planIfResent, plan);
  const resend = target !== undefined && !subscribed ? plan.resent(target) : undefined;
  if (resend === undefined || resend.size === 0) return step;
  const owe = new Map(step.state.owed);
  owe.set(target!, new Set([...(owe.get(target!) ?? []), ...resend]));
  return { ...step, state: { ...step.state, owed: owe } };
}

/** A new snapshot: what every subscribed type must send. */
export function deltaPush(state: DeltaState, snap: CachedSnapshot): Step<Known> {
  return pushStep(state, snap, planDelta);
}

function planDelta(typeUrl: TypeUrl, st: St, snap: CachedSnapshot, plan: PushPlan): St {
  const view = viewOf(snap.resources.get(typeUrl) ?? emptyTypeMap, st.sub);
  const resend = plan.resendOf(typeUrl, view);
  const forced: ReadonlySet<string> = resend.length === 0 ? (st.forced ?? noneForced) : new Set([...(st.forced ?? []), ...resend]);
  const mustRespond = st.mustRespond === true;
  const sent = st.sent;
  const next: St = sent === view && st.forced === undefined && !st.mustRespond ? st : { ...st, sent: view, forced: undefined, mustRespond: false };
  if (sent !== undefined && sent.version === view.version && forced.size === 0 && !mustRespond) return next;

  const basis = st.basis ?? noneKnown;
  const diff = diffView(basis, view);
  plan.noteChanged(typeUrl, basis, diff.changed, snap);
  let changed = diff.changed;
  let removed = diff.removed;
  let memo = (kind: string): Response['memo'] => ({ owner: diff, key: `${kind}|${typeUrl}` });
  if (forced.size > 0 && !coveredByDiff(forced, view, basis)) {
    // Forced names: resend those that exist, report the others as removed (= does not exist).
    const changedNames = new Set(changed.map((r) => r.name));
    const removedNames = new Set(removed);
    let unknown = false;
    for (const n of forced) {
      if (view.resources.has(n)) changedNames.add(n);
      else {
        removedNames.add(n);
        unknown = true;
      }
    }
    changed = [...changedNames].sort().map((n) => view.resources.get(n)!);
    removed = [...removedNames].sort();
    // Names that exist nowhere are the client's own choice: a memo keyed on them would keep
    // its answers as long as the (shared, long-lived) view. Such a response is encoded for
    // this stream only and dies with it.
    const key = `${typeUrl}|${JSON.stringify([changed.map((r) => r.name), removed])}`; // names are opaque: no separator is safe
    memo = (kind) => (unknown ? undefined : { owner: view, key: `${kind}|${key}` });
  }
  if (changed.length > 0) plan.now.push({ typeUrl, holds: view, resources: changed, removed: [], memo: memo('changed') });
  if (removed.length > 0) plan.remove({ typeUrl, holds: view, resources: [], removed, memo: memo('removed') });
  if (changed.length === 0 && removed.length === 0 && mustRespond) plan.now.push({ typeUrl, holds: view, resources: [], removed: [] });
  return next;
}

// Every proxy of a group subscribes alike, in shared frozen arrays (xds/server/request-decode.ts):
// a request that only subscribes (a stream's first request of a type, mostly) is read once per
// (previous subscription, names array) — the new subscription and the names it forces — not
// turned into sets, sorted and interned per stream.
interface Subscribed {
  readonly sub: Subscription;
  /** Every name subscribed but `*`: the client may have forgotten them (see deltaRequest). */
  readonly forced: ReadonlySet<string>;
}

const afterSubscribe = new WeakMap<Subscription, WeakMap<readonly string[], Subscribed>>();

/**
 * The outcome of a request that only subscribes, from shared names, when every name it
 * subscribes is forced (the client holds none of them as far as the first request's basis
 * says): undefined for anything else, which takes the general path.
 */
function onlySubscribes(before: Subscription, subscribe: readonly string[], unsubscribe: readonly string[], basis: Known | undefined): Subscribed | undefined {
  if (unsubscribe.length > 0 || subscribe.length === 0 || !Object.isFrozen(subscribe) || (basis !== undefined && basis.size > 0)) return undefined;
  let bySubscribe = afterSubscribe.get(before);
  if (bySubscribe === undefined) afterSubscribe.set(before, (bySubscribe = new WeakMap()));
  let done = bySubscribe.get(subscribe);
  if (done === undefined) {
    const forced = new Set(subscribe.filter((n) => n !== '*'));
    const sub = subscription(before.wildcard || subscribe.includes('*'), [...before.names, ...forced]);
    bySubscribe.set(subscribe, (done = { sub, forced }));
  }
  return done;
}

/**
 * Forced names the diff already sends (they exist and the client's version differs): a
 * stream's first request names what it has not got yet, so on a fresh stream this is every
 * forced name, and the shared diff and its encoding serve it.
 */
function coveredByDiff(forced: ReadonlySet<string>, view: View, basis: Known): boolean {
  for (const n of forced) {
    const r = view.resources.get(n);
    if (r === undefined || basis.get(n)?.version === r.version) return false;
  }
  return true;
}

function without(map: Known | undefined, names: readonly string[]): Known | undefined {
  if (map === undefined || !names.some((n) => map.has(n))) return map;
  const kept = new Map(map);
  for (const n of names) kept.delete(n);
  return kept;
}
