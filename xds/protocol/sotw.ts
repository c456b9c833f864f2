// State-of-the-World. A request carries the whole subscription (resource_names) and answers
// a response by nonce. Per type the state remembers the view last planned; a push sends only
// when the content for the subscription changed. Full-state types (LDS/CDS) send everything
// subscribed (absence is removal); the others send what changed, plus what a change of
// another type makes resendable (CLAs of changed clusters, which Envoy needs to finish
// warming them). A NACKed view stays "sent", so it is not pushed again: only new content is.
import { typeOf, type TypeUrl } from '../resources/type-urls.ts';
import type { CachedSnapshot, EncodedResource } from '../snapshot/types.ts';
import { answerEarlier, answerLatest } from './ack.ts';
import { planTypes, pushStep, type PushPlan } from './plan.ts';
import { newTypeState, withType, type ProtocolEvent, type RequestStep, type Response, type Step, type StreamState, type TypeState } from './state.ts';
import { diffView, noSubscription, subscription, unionView, viewOf, wildcardSubscription, type Subscription, type View } from './views.ts';

/** SotW bases are views' maps: the union of a make-before-break push needs the resources. */
export type Held = ReadonlyMap<string, EncodedResource>;
export type SotwState = StreamState<Held>;
type St = TypeState<Held>;

export interface SotwRequest {
  readonly typeUrl: TypeUrl;
  readonly responseNonce: string;
  readonly versionInfo: string;
  readonly resourceNames: readonly string[];
  /** error_detail.message when the request is a NACK. */
  readonly error?: string | undefined;
  /** Wall-clock time of the request (epoch ms). */
  readonly now: number;
}

const emptyTypeMap: Held = new Map();

/** A request: ACK/NACK bookkeeping and the new subscription; whether it must be answered. */
export function sotwRequest(state: SotwState, req: SotwRequest): RequestStep<Held> {
  const { typeUrl, responseNonce } = req;
  const answer = { nonce: responseNonce, error: req.error, version: req.versionInfo, now: req.now };
  let st = state.types.get(typeUrl);
  const events: ProtocolEvent[] = [];
  if (st !== undefined && responseNonce !== '' && responseNonce !== st.nonce) {
    // Superseded by a response the client has not seen yet; its next request answers that one.
    const a = answerEarlier(typeUrl, st, answer);
    return { state: withType(state, typeUrl, a.st), events: a.event !== undefined ? [a.event] : [] };
  }
  const fresh = st === undefined || responseNonce === '';
  if (st === undefined) st = newTypeState<Held>();
  else if (responseNonce !== '') {
    const a = answerLatest(typeUrl, st, answer);
    st = a.st;
    if (a.event !== undefined) events.push(a.event);
  }
  const { sub, explicit } = subscriptionOf(typeUrl, st, req.resourceNames);
  if (explicit !== st.explicit) st = { ...st, explicit };
  if (!fresh && sub === st.sub) return { state: withType(state, typeUrl, st), events }; // ACK/NACK only: pushes come from snapshot changes
  st = { ...st, sub };
  // The client drops what it no longer asks for; asking again must bring it back.
  if (!sub.wildcard) st = { ...st, basis: restrict(st.basis, sub.names), pending: restrict(st.pending, sub.names), acked: restrict(st.acked, sub.names) };
  // The client holds nothing we know of: send everything it asks for.
  if (fresh) st = { ...st, sent: undefined, basis: undefined };
  return { state: withType(state, typeUrl, st), events, answer: typeUrl };
}

/** The answer to a request for `typeUrl`, against the stream's snapshot. */
export function sotwAnswer(state: SotwState, typeUrl: TypeUrl, snap: CachedSnapshot): Step<Held> {
  return planTypes(state, snap, [typeUrl], planSotw);
}

/** A new snapshot: what every subscribed type must send. */
export function sotwPush(state: SotwState, snap: CachedSnapshot): Step<Held> {
  return pushStep(state, snap, planSotw);
}

function planSotw(typeUrl: TypeUrl, st: St, snap: CachedSnapshot, plan: PushPlan): St {
  const view = viewOf(snap.resources.get(typeUrl) ?? emptyTypeMap, st.sub);
  const resend = plan.resendOf(typeUrl, view);
  const sent = st.sent;
  const next = sent === view ? st : { ...st, sent: view };
  if (sent !== undefined && sent.version === view.version && resend.length === 0) return next;
  const basis = st.basis;

  if (typeOf(typeUrl).fullState) {
    const full = fullResponse(typeUrl, view);
    if (basis === undefined) {
      plan.now.push(full); // always answer the first request, even with nothing: the client's init waits for it
      return next;
    }
    const diff = diffView(basis, view);
    plan.noteChanged(typeUrl, basis, diff.changed, snap);
    if (diff.changed.length > 0 && diff.removed.length > 0) {
      // Make before break: the new state plus what is going away now, the removal after the rest.
      plan.now.push(fullResponse(typeUrl, unionView(basis, view)));
      plan.remove(full);
      plan.split(typeUrl);
    } else if (diff.changed.length > 0) plan.now.push(full);
    else if (diff.removed.length > 0) plan.remove(full);
    // Else the client already holds this content (back to what it ACKed after a NACK).
    return next;
  }

  // Removals are implicit (parents stop referring to them): send what changed.
  const diff = diffView(basis, view);
  if (resend.length === 0) {
    if (diff.changed.length > 0) plan.now.push({ typeUrl, holds: view, resources: diff.changed, removed: [], memo: { owner: diff, key: typeUrl } });
    return next;
  }
  const names = [...new Set([...diff.changed.map((r) => r.name), ...resend])].sort();
  plan.now.push(namedResponse(typeUrl, view, names));
  // The second phase of a split push may be the one that changes those resources (if the
  // client rejected the first): they warm again and wait for these.
  for (const source of plan.splitSourcesOf(typeUrl)) plan.follow(source, namedResponse(typeUrl, view, resend));
  return next;
}

function fullResponse(typeUrl: TypeUrl, view: View): Response {
  return { typeUrl, holds: view, resources: view.resources, removed: [], memo: { owner: view, key: typeUrl } };
}

function namedResponse(typeUrl: TypeUrl, view: View, names: readonly string[]): Response {
  // Names here are the snapshot's (resource names), never a client's: '\0' cannot occur in them.
  return {
    typeUrl,
    holds: view,
    resources: names.map((n) => view.resources.get(n)!),
    removed: [],
    memo: { owner: view, key: `${typeUrl}|${names.join('\u0000')}` },
  };
}

/** What of `map` the names keep, in O(min(map, names)): a client flipping between every name and none costs what it asks for, not what it held. */
function restrict<V>(map: ReadonlyMap<string, V> | undefined, names: ReadonlySet<string>): ReadonlyMap<string, V> | undefined {
  if (map === undefined) return map;
  if (map.size <= names.size) {
    for (const n of map.keys()) if (!names.has(n)) return new Map([...map].filter(([k]) => names.has(k)));
    return map;
  }
  const kept = new Map<string, V>();
  for (const n of names) {
    const v = map.get(n);
    if (v !== undefined) kept.set(n, v);
  }
  return kept;
}

/** SotW names → subscription, with the legacy rule: a full-state type with no names ever named means `*`. */
function subscriptionOf(typeUrl: TypeUrl, st: St, names: readonly string[]): { sub: Subscription; explicit: boolean } {
  if (names.length === 0) return { sub: !st.explicit && typeOf(typeUrl).fullState ? wildcardSubscription : noSubscription, explicit: st.explicit };
  // Every ACK repeats the names: the same array as last time (request-decode.ts shares one per
  // distinct span of bytes) is the same subscription; else compare, and only then sort and intern.
  if (namesOf.get(st.sub) === names) return { sub: st.sub, explicit: true };
  // A stream's first request with a names array other streams sent before (every proxy of a
  // group subscribes alike): the subscription read from it then, without sorting and interning.
  let sub = subOfNames.get(names);
  if (sub === undefined) {
    sub = sameNames(st.sub, names) ? st.sub : subscription(names.includes('*'), names);
    if (Object.isFrozen(names)) subOfNames.set(names, sub);
  }
  namesOf.set(sub, names);
  return { sub, explicit: true };
}

/** Subscription per shared (frozen) names array, see request-decode.ts. */
const subOfNames = new WeakMap<readonly string[], Subscription>();

/** The names array a subscription was last read from (subscriptions are interned, so shared by streams). */
const namesOf = new WeakMap<Subscription, readonly string[]>();

function sameNames(sub: Subscription, names: readonly string[]): boolean {
  if (sub.wildcard || names.length < sub.names.size) return false;
  const seen = new Set<string>();
  for (const n of names) {
    if (!sub.names.has(n)) return false;
    seen.add(n);
  }
  return seen.size === sub.names.size; // seen ⊆ sub.names, so equal sizes mean equal sets
}
