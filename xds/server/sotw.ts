// State-of-the-World streams. Per type the stream remembers the view it last sent; a push
// sends only when the content for this proxy's subscription changed. LDS/CDS responses carry
// the full state; EDS/RDS/SDS carry what changed (plus CLAs of changed clusters, which Envoy
// needs to finish warming them). A NACKed view stays "sent", so it is not pushed again: only
// new content is.
import type { DiscoveryRequest } from '../gen/envoy/service/discovery/v3/discovery_pb.js';
import { fullStateTypes, TypeUrl } from '../resources/type-urls.ts';
import type { CachedSnapshot, EncodedResource } from '../snapshot/types.ts';
import { BodyMemo, sotwBody } from './responses.ts';
import { newTypeState, PushPlan, XdsStream, type Outgoing, type TypeState } from './stream.ts';
import { diffView, noSubscription, subscription, unionView, viewOf, type Subscription, type View, type ViewDiff } from './views.ts';

/** SotW bases are views' maps: the union of a make-before-break push needs the resources. */
type SotwTypeState = TypeState<ReadonlyMap<string, EncodedResource>>;

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
      this.nackOfEarlier(typeUrl, st, req.responseNonce, req.errorDetail);
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
    // The client drops what it no longer asks for; asking again must bring it back.
    if (!sub.wildcard) for (const k of ['basis', 'pending', 'acked'] as const) st[k] = restrict(st[k], sub.names);
    if (fresh) {
      // The client holds nothing we know of: send everything it asks for.
      delete st.sent;
      delete st.basis;
    }
    const snap = this.snapshot();
    if (snap === undefined) return; // no model yet: the first push answers
    const plan = new PushPlan();
    this.plan(typeUrl, st, snap, plan);
    this.writeAll(plan);
  }

  protected plan(typeUrl: TypeUrl, st: SotwTypeState, snap: CachedSnapshot, plan: PushPlan): void {
    const view = viewOf(snap.resources.get(typeUrl) ?? emptyTypeMap, st.sub);
    const forced = typeUrl === TypeUrl.Endpoint ? [...plan.forcedEds].filter((n) => view.resources.has(n)).sort() : [];
    const sent = st.sent;
    st.sent = view;
    if (sent !== undefined && sent.version === view.version && forced.length === 0) return;
    const basis = st.basis;

    if (fullStateTypes.has(typeUrl)) {
      const full = out(typeUrl, st, fullBody(typeUrl, view), view, view.resources.size);
      if (basis === undefined) {
        plan.now.push(full); // always answer the first request, even with nothing: the client's init waits for it
        return;
      }
      const diff = diffView(basis, view);
      if (typeUrl === TypeUrl.Cluster) {
        for (const c of diff.changed) {
          const eds = basis.has(c.name) ? snap.edsNames.get(c.name) : undefined;
          if (eds !== undefined) plan.forcedEds.add(eds);
        }
      }
      if (diff.changed.length > 0 && diff.removed.length > 0) {
        // Make before break: the new state plus what is going away now, the removal after the rest.
        const both = unionView(basis, view);
        plan.now.push(out(typeUrl, st, fullBody(typeUrl, both), both, both.resources.size));
        plan.removals.set(typeUrl, full);
        if (typeUrl === TypeUrl.Cluster) plan.cdsSplit = true;
      } else if (diff.changed.length > 0) plan.now.push(full);
      else if (diff.removed.length > 0) plan.removals.set(typeUrl, full);
      // Else the client already holds this content (back to what it ACKed after a NACK).
      return;
    }

    // EDS/RDS/SDS: removals are implicit (parents stop referring to them); send what changed.
    const diff = diffView(basis, view);
    if (forced.length === 0) {
      if (diff.changed.length === 0) return;
      const body = diffBodies.get(diff, typeUrl, () => sotwBody(typeUrl, view.version, diff.changed));
      plan.now.push(out(typeUrl, st, body, view, diff.changed.length));
      return;
    }
    const names = [...new Set([...diff.changed.map((r) => r.name), ...forced])].sort();
    plan.now.push(out(typeUrl, st, namedBody(typeUrl, view, names), view, names.length));
    // The CDS removal response may be the one that changes those clusters (if the client
    // rejected the first phase): they warm again and wait for their CLAs.
    if (plan.cdsSplit) plan.afterCdsRemoval.push(out(typeUrl, st, namedBody(typeUrl, view, forced), view, forced.length));
  }
}

function restrict<V>(map: ReadonlyMap<string, V> | undefined, names: ReadonlySet<string>): ReadonlyMap<string, V> | undefined {
  if (map === undefined || [...map.keys()].every((n) => names.has(n))) return map;
  return new Map([...map].filter(([n]) => names.has(n)));
}

function fullBody(typeUrl: TypeUrl, view: View): Uint8Array {
  return fullBodies.get(view, typeUrl, () => sotwBody(typeUrl, view.version, view.resources.values()));
}

function namedBody(typeUrl: TypeUrl, view: View, names: readonly string[]): Uint8Array {
  return forcedBodies.get(view, `${typeUrl}|${names.join('\u0000')}`, () =>
    sotwBody(
      typeUrl,
      view.version,
      names.map((n) => view.resources.get(n)!),
    ),
  );
}

function out(typeUrl: TypeUrl, st: TypeState, body: Uint8Array, holds: View, resources: number): Outgoing {
  return { typeUrl, st, body, version: holds.version, holds: holds.resources, resources, removed: 0 };
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
