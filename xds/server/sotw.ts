// State-of-the-World streams. Per type the stream remembers the view it last sent; a push
// sends only when the content for this proxy's subscription changed. LDS/CDS responses carry
// the full state; EDS/RDS/SDS carry what changed (plus CLAs of changed clusters, which Envoy
// needs to finish warming them). A NACKed view stays "sent", so it is not pushed again: only
// new content is.
import type { DiscoveryRequest } from '../gen/envoy/service/discovery/v3/discovery_pb.js';
import { fullStateTypes, TypeUrl } from '../resources/type-urls.ts';
import type { CachedSnapshot, EncodedResource } from '../snapshot/types.ts';
import { BodyMemo, sotwBody } from './responses.ts';
import { newTypeState, XdsStream, type Outgoing, type TypeState } from './stream.ts';
import { diffView, noSubscription, subscription, unionView, viewOf, type Subscription, type View, type ViewDiff } from './views.ts';

interface SotwTypeState extends TypeState {
  /** The view the client was last sent (kept after a NACK so the same content is not re-pushed). */
  sent?: View;
}

const emptyTypeMap: ReadonlyMap<string, EncodedResource> = new Map();
const fullBodies = new BodyMemo<View>();
const diffBodies = new BodyMemo<ViewDiff>();
const forcedBodies = new BodyMemo<View>();

export class SotwStream extends XdsStream<DiscoveryRequest, SotwTypeState> {
  readonly protocol = 'sotw';

  protected handleRequest(req: DiscoveryRequest): void {
    const typeUrl = this.resolveType(req.typeUrl);
    if (typeUrl === undefined) return;
    let st = this.types.get(typeUrl);
    const isNew = st === undefined;
    if (st !== undefined && req.responseNonce !== '' && req.responseNonce !== st.nonce) {
      // Superseded by a response the client has not seen yet; its next request will answer that one.
      this.log.debug({ typeUrl, nonce: req.responseNonce, latest: st.nonce }, 'stale nonce ignored');
      return;
    }
    if (st === undefined) {
      st = newTypeState();
      this.types.set(typeUrl, st);
    } else if (req.responseNonce !== '') {
      this.ackOrNack(typeUrl, st, req.errorDetail, req.versionInfo);
    }
    const sub = subscriptionOf(typeUrl, st, req.resourceNames);
    const fresh = isNew || req.responseNonce === '';
    if (!fresh && sub === st.sub) return; // ACK/NACK only: pushes come from snapshot changes
    st.sub = sub;
    if (fresh) delete st.sent; // the client holds nothing we know of: send everything it asks for
    const snap = this.snapshot();
    if (snap === undefined) return; // no model yet: the first push answers
    const now: Outgoing[] = [];
    const later: Outgoing[] = [];
    this.plan(typeUrl, st, snap, now, later, new Set());
    this.writeAll(now, later);
  }

  protected plan(
    typeUrl: TypeUrl,
    st: SotwTypeState,
    snap: CachedSnapshot,
    now: Outgoing[],
    later: Outgoing[],
    forcedEds: Set<string>,
  ): void {
    const view = viewOf(snap.resources.get(typeUrl) ?? emptyTypeMap, st.sub);
    const forced = typeUrl === TypeUrl.Endpoint ? [...forcedEds].filter((n) => view.resources.has(n)).sort() : [];
    const sent = st.sent;
    st.sent = view;
    if (sent !== undefined && sent.version === view.version && forced.length === 0) return;

    if (fullStateTypes.has(typeUrl)) {
      const full = (): Outgoing => out(typeUrl, st, fullBodies.get(view, typeUrl, () => sotwBody(typeUrl, view.version, view.resources.values())), view.version, view.resources.size);
      if (sent === undefined) {
        now.push(full()); // always answer the first request, even with nothing: the client's init waits for it
        return;
      }
      const diff = diffView(sent.resources, view);
      if (typeUrl === TypeUrl.Cluster) {
        for (const c of diff.changed) {
          const eds = sent.resources.has(c.name) ? snap.edsNames.get(c.name) : undefined;
          if (eds !== undefined) forcedEds.add(eds);
        }
      }
      if (diff.changed.length > 0 && diff.removed.length > 0) {
        // Make before break: first the new state plus what is going away, the removal after the rest.
        const both = unionView(sent.resources, view);
        const body = fullBodies.get(both, typeUrl, () => sotwBody(typeUrl, both.version, both.resources.values()));
        now.push(out(typeUrl, st, body, both.version, both.resources.size));
        later.push(full());
      } else if (diff.changed.length > 0) now.push(full());
      else later.push(full());
      return;
    }

    if (sent === undefined) {
      if (view.resources.size === 0) return; // nothing requested exists yet: remembered, sent when it appears
      now.push(out(typeUrl, st, fullBodies.get(view, typeUrl, () => sotwBody(typeUrl, view.version, view.resources.values())), view.version, view.resources.size));
      return;
    }
    const diff = diffView(sent.resources, view);
    if (forced.length === 0) {
      // Removals are implicit for these types (parents stop referring to them): send only what changed.
      if (diff.changed.length === 0) return;
      const body = diffBodies.get(diff, typeUrl, () => sotwBody(typeUrl, view.version, diff.changed));
      now.push(out(typeUrl, st, body, view.version, diff.changed.length));
      return;
    }
    const names = new Set([...diff.changed.map((r) => r.name), ...forced]);
    const resources = [...names].sort().map((n) => view.resources.get(n)!);
    const body = forcedBodies.get(view, `${typeUrl}|${[...names].sort().join('\u0000')}`, () => sotwBody(typeUrl, view.version, resources));
    now.push(out(typeUrl, st, body, view.version, resources.length));
  }
}

function out(typeUrl: TypeUrl, st: TypeState, body: Uint8Array, version: string, resources: number): Outgoing {
  return { typeUrl, st, body, version, resources, removed: 0 };
}

/** SotW names → subscription, with the legacy rule: LDS/CDS with no names ever named means `*`. */
function subscriptionOf(typeUrl: TypeUrl, st: TypeState, names: readonly string[]): Subscription {
  if (names.length === 0) return !st.explicit && fullStateTypes.has(typeUrl) ? subscription(true, []) : noSubscription;
  st.explicit = true;
  if (sameNames(st.sub, names)) return st.sub; // every ACK repeats the names: skip sorting and interning
  return subscription(names.includes('*'), names);
}

function sameNames(sub: Subscription, names: readonly string[]): boolean {
  if (sub.wildcard || names.length < sub.names.size) return false;
  const seen = new Set<string>();
  for (const n of names) {
    if (!sub.names.has(n)) return false;
    seen.add(n);
  }
  return seen.size === sub.names.size; // seen ⊆ sub.names, so equal sizes mean equal sets
}
