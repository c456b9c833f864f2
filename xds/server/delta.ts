// Incremental (Delta) streams. Per type the stream tracks what the client holds (name →
// version): seeded from initial_resource_versions, then the view last sent (a shared
// object, so in-sync streams cost a reference). Responses carry changed resources; deletions
// go in removed_resources, in a later response than the additions.
import type { DeltaDiscoveryRequest } from '../gen/envoy/service/discovery/v3/discovery_pb.js';
import { fullStateTypes, TypeUrl } from '../resources/type-urls.ts';
import type { CachedSnapshot, EncodedResource } from '../snapshot/types.ts';
import { BodyMemo, deltaBody } from './responses.ts';
import { newTypeState, XdsStream, type Outgoing, type TypeState } from './stream.ts';
import { diffView, subscription, viewOf, type Known, type View, type ViewDiff } from './views.ts';

interface DeltaTypeState extends TypeState {
  known: Known;
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

  protected handleRequest(req: DeltaDiscoveryRequest): void {
    const typeUrl = this.resolveType(req.typeUrl);
    if (typeUrl === undefined) return;
    let st = this.types.get(typeUrl);
    const first = st === undefined;
    if (st === undefined) {
      const initial = new Map(Object.entries(req.initialResourceVersions).map(([n, version]) => [n, { version }]));
      st = { ...newTypeState(), known: initial.size > 0 ? initial : noneKnown, mustRespond: false };
      this.types.set(typeUrl, st);
    } else if (req.responseNonce !== '' && req.responseNonce === st.nonce) {
      this.ackOrNack(typeUrl, st, req.errorDetail, st.versionSent);
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
        if (!first || !st.known.has(n)) forced.add(n);
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
    st.sub = subscription(wildcard, names);
    if (forget.some((n) => st.known.has(n))) {
      const known = new Map(st.known);
      for (const n of forget) known.delete(n);
      st.known = known;
    }
    if (forced.size > 0) st.forced = new Set([...(st.forced ?? []), ...forced]);
    if (first) st.mustRespond = wildcard;
    // ACK/NACK or unsubscribe only: nothing to answer.
    if (!first && forced.size === 0 && !(wildcard && !before.wildcard)) return;
    const snap = this.snapshot();
    if (snap === undefined) return; // no model yet: the first push answers
    const now: Outgoing[] = [];
    const later: Outgoing[] = [];
    this.plan(typeUrl, st, snap, now, later, new Set());
    this.writeAll(now, later);
  }

  protected plan(
    typeUrl: TypeUrl,
    st: DeltaTypeState,
    snap: CachedSnapshot,
    now: Outgoing[],
    later: Outgoing[],
    forcedEds: Set<string>,
  ): void {
    const view = viewOf(snap.resources.get(typeUrl) ?? emptyTypeMap, st.sub);
    const forced = st.forced ?? new Set<string>();
    delete st.forced;
    if (typeUrl === TypeUrl.Endpoint) for (const n of forcedEds) if (view.resources.has(n)) forced.add(n);
    const mustRespond = st.mustRespond;
    st.mustRespond = false;
    const known = st.known;
    st.known = view.resources;
    if (known === view.resources && forced.size === 0 && !mustRespond) return;

    const diff = diffView(known, view);
    if (typeUrl === TypeUrl.Cluster) {
      for (const c of diff.changed) {
        const eds = known.has(c.name) ? snap.edsNames.get(c.name) : undefined;
        if (eds !== undefined) forcedEds.add(eds);
      }
    }
    if (forced.size === 0) {
      if (diff.changed.length > 0) {
        const body = diffBodies.get(diff, `${typeUrl}|changed`, () => deltaBody(typeUrl, view.version, diff.changed, []));
        now.push(out(typeUrl, st, body, view.version, diff.changed.length, 0));
      }
      if (diff.removed.length > 0) {
        const body = diffBodies.get(diff, `${typeUrl}|removed`, () => deltaBody(typeUrl, view.version, [], diff.removed));
        later.push(out(typeUrl, st, body, view.version, 0, diff.removed.length));
      }
      if (diff.changed.length === 0 && diff.removed.length === 0 && mustRespond) {
        now.push(out(typeUrl, st, deltaBody(typeUrl, view.version, [], []), view.version, 0, 0));
      }
      return;
    }
    // Forced names: resend those that exist, report the others as removed (= does not exist).
    const changedNames = new Set(diff.changed.map((r) => r.name));
    const removedNames = new Set(diff.removed);
    for (const n of forced) {
      if (view.resources.has(n)) changedNames.add(n);
      else removedNames.add(n);
    }
    const changed = [...changedNames].sort().map((n) => view.resources.get(n)!);
    const removed = [...removedNames].sort();
    const key = `${typeUrl}|${changed.map((r) => r.name).join('\u0000')}|${removed.join('\u0000')}`;
    if (changed.length > 0) {
      const body = forcedBodies.get(view, `c|${key}`, () => deltaBody(typeUrl, view.version, changed, []));
      now.push(out(typeUrl, st, body, view.version, changed.length, 0));
    }
    if (removed.length > 0) {
      const body = forcedBodies.get(view, `r|${key}`, () => deltaBody(typeUrl, view.version, [], removed));
      later.push(out(typeUrl, st, body, view.version, 0, removed.length));
    }
  }
}

function out(typeUrl: TypeUrl, st: TypeState, body: Uint8Array, version: string, resources: number, removed: number): Outgoing {
  return { typeUrl, st, body, version, resources, removed };
}
