// Incremental (Delta) streams. Per type the stream tracks what the client holds (name →
// version): seeded from initial_resource_versions, then the view last sent (a shared
// object, so in-sync streams cost a reference). Responses carry changed resources; deletions
// go in removed_resources, in a later response than the additions.
import type { DeltaDiscoveryRequest } from '../gen/envoy/service/discovery/v3/discovery_pb.js';
import { fullStateTypes, TypeUrl } from '../resources/type-urls.ts';
import type { CachedSnapshot, EncodedResource } from '../snapshot/types.ts';
import { BodyMemo, deltaBody } from './responses.ts';
import { newTypeState, PushPlan, XdsStream, type Outgoing, type TypeState } from './stream.ts';
import { diffView, subscription, viewOf, type Known, type View, type ViewDiff } from './views.ts';

interface DeltaTypeState extends TypeState {
  /** Names to answer for even if the client seems to hold them (re-subscribed, EDS of a changed cluster). */
  forced?: Set<string>;
  /** Answer even when there is nothing to send (the first wildcard request completes the client's init). */
  mustRespond: boolean;
}

const emptyTypeMap: ReadonlyMap<string, EncodedResource> = new Map();
const noneKnown: Known = new Map();
const diffBodies = new BodyMemo<ViewDiff>();
const forcedBodies = new BodyMemo<View>();

export class DeltaStream extends XdsStream<DeltaDiscoveryRequest, DeltaTypeState> {
  readonly protocol = 'delta';
  /** CLAs of clusters a CDS answer outside a push changed, for an EDS subscription not made yet. */
  readonly #owedEds = new Set<string>();

  protected handleRequest(req: DeltaDiscoveryRequest): void {
    const typeUrl = this.resolveType(req.typeUrl);
    if (typeUrl === undefined) return;
    let st = this.types.get(typeUrl);
    const first = st === undefined;
    if (st === undefined) {
      const initial = new Map(Object.entries(req.initialResourceVersions).map(([n, version]) => [n, { version }]));
      // What the client says it has is its ACKed state, and the diff basis.
      const known = initial.size > 0 ? initial : noneKnown;
      st = { ...newTypeState(), basis: known, acked: known, mustRespond: false };
      this.types.set(typeUrl, st);
    } else if (req.responseNonce !== '' && req.responseNonce === st.nonce) {
      this.ackOrNack(typeUrl, st, req.errorDetail, st.versionSent);
    } else if (req.responseNonce !== '') {
      this.nackOfEarlier(typeUrl, st, req.responseNonce, req.errorDetail);
    }
    // Subscription changes apply whatever the nonce says: a stale nonce only voids the ACK/NACK.
    const subscribe = req.resourceNamesSubscribe;
    const unsubscribe = req.resourceNamesUnsubscribe;
    const before = st.sub;
    let wildcard = before.wildcard;
    const names = new Set(st.sub.names);
    const forced = new Set<string>();
    if (first && subscribe.length === 0 && unsubscribe.length === 0 && fullStateTypes.has(typeUrl)) wildcard = true;
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
    if (subscribe.length > 0) st.explicit = true;
    if (before.wildcard && !wildcard) {
      // Leaving `*`: the client forgets what it held only through it, as for a named unsubscribe.
      for (const k of ['basis', 'pending', 'acked'] as const) for (const n of st[k]?.keys() ?? []) if (!names.has(n)) forget.push(n);
    }
    // Back to `*`: diff against what the client holds, not against the view last sent.
    if (wildcard && !before.wildcard) delete st.sent;
    st.sub = subscription(wildcard, names);
    // The client forgets what it unsubscribed from: drop it from every notion of its state.
    for (const k of ['basis', 'pending', 'acked'] as const) {
      const map = st[k];
      if (map === undefined || !forget.some((n) => map.has(n))) continue;
      const kept = new Map(map);
      for (const n of forget) kept.delete(n);
      st[k] = kept;
    }
    if (forced.size > 0) st.forced = new Set([...(st.forced ?? []), ...forced]);
    if (first) st.mustRespond = wildcard;
    // ACK/NACK or unsubscribe only: nothing to answer.
    if (!first && forced.size === 0 && !(wildcard && !before.wildcard)) return;
    const snap = this.snapshot();
    if (snap === undefined) return; // no model yet: the first push answers
    const plan = new PushPlan();
    if (typeUrl === TypeUrl.Endpoint) {
      for (const n of this.#owedEds) plan.forcedEds.add(n);
      this.#owedEds.clear();
    }
    this.plan(typeUrl, st, snap, plan);
    if (typeUrl === TypeUrl.Cluster && plan.forcedEds.size > 0) {
      // Changed clusters re-warm and wait for their CLAs (a reconnect with initial versions,
      // say): send them after CDS as a push would, or when EDS is subscribed.
      const eds = this.types.get(TypeUrl.Endpoint);
      if (eds !== undefined) this.plan(TypeUrl.Endpoint, eds, snap, plan);
      else for (const n of plan.forcedEds) this.#owedEds.add(n);
    }
    this.writeAll(plan);
  }

  protected plan(typeUrl: TypeUrl, st: DeltaTypeState, snap: CachedSnapshot, plan: PushPlan): void {
    const view = viewOf(snap.resources.get(typeUrl) ?? emptyTypeMap, st.sub);
    const forced = st.forced ?? new Set<string>();
    delete st.forced;
    if (typeUrl === TypeUrl.Endpoint) for (const n of plan.forcedEds) if (view.resources.has(n)) forced.add(n);
    const mustRespond = st.mustRespond;
    st.mustRespond = false;
    const sent = st.sent;
    st.sent = view;
    if (sent !== undefined && sent.version === view.version && forced.size === 0 && !mustRespond) return;

    const basis = st.basis ?? noneKnown;
    const diff = diffView(basis, view);
    if (typeUrl === TypeUrl.Cluster) {
      for (const c of diff.changed) {
        const eds = basis.has(c.name) ? snap.edsNames.get(c.name) : undefined;
        if (eds !== undefined) plan.forcedEds.add(eds);
      }
    }
    let changed = diff.changed;
    let removed = diff.removed;
    let bodyOf = (kind: string, make: () => Uint8Array) => diffBodies.get(diff, `${typeUrl}|${kind}`, make);
    if (forced.size > 0) {
      // Forced names: resend those that exist, report the others as removed (= does not exist).
      const changedNames = new Set(changed.map((r) => r.name));
      const removedNames = new Set(removed);
      for (const n of forced) {
        if (view.resources.has(n)) changedNames.add(n);
        else removedNames.add(n);
      }
      changed = [...changedNames].sort().map((n) => view.resources.get(n)!);
      removed = [...removedNames].sort();
      const key = `${typeUrl}|${JSON.stringify([changed.map((r) => r.name), removed])}`; // names are opaque: no separator is safe
      bodyOf = (kind, make) => forcedBodies.get(view, `${kind}|${key}`, make);
    }
    if (changed.length > 0) {
      const body = bodyOf('changed', () => deltaBody(typeUrl, view.version, changed, []));
      plan.now.push(out(typeUrl, st, body, view, changed.length, 0));
    }
    if (removed.length > 0) {
      const body = bodyOf('removed', () => deltaBody(typeUrl, view.version, [], removed));
      plan.removals.set(typeUrl, out(typeUrl, st, body, view, 0, removed.length));
    }
    if (changed.length === 0 && removed.length === 0 && mustRespond) {
      plan.now.push(out(typeUrl, st, deltaBody(typeUrl, view.version, [], []), view, 0, 0));
    }
  }
}

function out(typeUrl: TypeUrl, st: TypeState, body: Uint8Array, holds: View, resources: number, removed: number): Outgoing {
  return { typeUrl, st, body, version: holds.version, holds: holds.resources, resources, removed };
}
