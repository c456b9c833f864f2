// The Programmed condition: has every proxy in the mesh that this resource affects
// acknowledged the configuration built from the current model? Each replica tallies the
// proxies connected to it (this file) and publishes the tallies (replica-report.ts); the
// status writer adds the live reports of the other replicas (aggregate.ts).
//  - a proxy counts as acknowledged when the last snapshot it ACKed in full was built from
//    the current CONFIGURATION version (the model without endpoints, src/model/config-version.ts):
//    an endpoint update on its way does not make it unacknowledged; a NACK of the version it
//    was last sent does (False/Rejected, naming the proxy and the first part of Envoy's
//    message, otherwise it would read Pending forever, without a reason);
//  - TrafficSplit, RetryPolicy, BackendPolicy and FaultPolicy shape the routes of their
//    Service: they affect the proxies whose stream receives that Service's routes (the route
//    configurations it subscribes to, xds/snapshot/received.ts: a proxyless client calling
//    only B, or a sidecar scoped to the services it calls, is not affected by A's split);
//    a PeerAuth affects the proxies its scope selects (mesh-wide, its namespace, or its
//    namespace and label selector); a RateLimitPolicy the proxies of its target Service's
//    Pods (selector), or every proxy for a selector-less one; an AuthorizationPolicy the
//    proxies of its namespace (all, when mesh-wide) behind its target Service, when it has one;
//  - no affected proxy anywhere: Unknown/NoProxies.
import { configVersion } from '../../model/config-version.ts';
import type { MeshModel, PeerAuthPolicy, PolicyStatus } from '../../model/types.ts';
import type { ProxyInfo } from '../../../xds/resources/proxy.ts';
import { resourceType, TypeUrl } from '../../../xds/resources/type-urls.ts';
import { receivedServices } from '../../../xds/snapshot/received.ts';
import type { CachedSnapshot } from '../../../xds/snapshot/types.ts';
import type { StreamDebug } from '../../../xds/server/stream.ts';
import type { Rejection, ReplicaReport, Tally } from './replica-report.ts';

/** What Programmed needs from the running control plane (ControlPlane satisfies it via an adapter). */
export interface ProxyView {
  model(): MeshModel | undefined;
  streams(): readonly StreamDebug[];
  snapshotFor(proxy: ProxyInfo): CachedSnapshot | undefined;
}

export interface ProxyAck {
  readonly proxy: ProxyInfo;
  readonly acked: boolean;
  /** The proxy rejected (NACKed) the version it was last sent of this type. */
  readonly rejected?: { readonly type: string; readonly message: string };
  /** `namespace/name` of the Services whose routes the proxy receives. */
  readonly services?: ReadonlySet<string>;
}

/** Envoy's NACK messages can run to kilobytes; the condition keeps the first part. */
const NACK_MESSAGE_CHARS = 240;

function rejection(s: StreamDebug): ProxyAck['rejected'] {
  const t = s.types.find((x) => x.lastNack !== undefined && x.lastNack.version === x.versionSent && x.versionAcked !== x.versionSent && !x.holdsLatest);
  if (!t?.lastNack) return undefined;
  const type = resourceType(t.typeUrl)?.label ?? t.typeUrl;
  const m = t.lastNack.message.replace(/\s+/g, ' ').trim();
  return { type, message: m.length > NACK_MESSAGE_CHARS ? `${m.slice(0, NACK_MESSAGE_CHARS)}...` : m };
}

/** Every type sent was ACKed (or the client holds what was last planned for it: a NACK since reverted). */
const settled = (s: StreamDebug): boolean =>
  s.types.length > 0 && s.types.every((t) => t.versionSent !== '' && (t.versionAcked === t.versionSent || t.holdsLatest === true));

/**
 * Remembers, per stream, the configuration version of the last snapshot it ACKed in full
 * (sampled at every pass): a proxy still ACKing an endpoint update keeps counting.
 */
export class AckTracker {
  readonly #configOf = new Map<string, string>(); // model version → config version (recent models)
  readonly #acked = new Map<string, string>(); // stream → config version last ACKed in full

  acks(view: ProxyView): ProxyAck[] {
    const model = view.model();
    const current = model ? configVersion(model) : undefined;
    if (model && current) {
      this.#configOf.delete(model.version);
      this.#configOf.set(model.version, current);
      if (this.#configOf.size > 64) this.#configOf.delete(this.#configOf.keys().next().value!);
    }
    const live = new Set<string>();
    const out = view.streams().map((s): ProxyAck => {
      live.add(s.stream);
      const snap = model ? view.snapshotFor(s.proxy) : undefined;
      if (snap && s.snapshotVersion === snap.version && settled(s)) {
        const cv = this.#configOf.get(snap.modelVersion);
        if (cv !== undefined) this.#acked.set(s.stream, cv);
      }
      const rejected = rejection(s);
      const acked = rejected === undefined && current !== undefined && this.#acked.get(s.stream) === current;
      const rds = s.types.find((t) => t.typeUrl === TypeUrl.Route);
      const services = rds ? receivedServices(snap, rds.subscribed) : undefined;
      return { proxy: s.proxy, acked, ...(rejected ? { rejected } : {}), ...(services ? { services } : {}) };
    });
    for (const id of this.#acked.keys()) if (!live.has(id)) this.#acked.delete(id);
    return out;
  }
}

/** One pass over the connected streams (a fresh tracker: acked = settled on the current snapshot). */
export function proxyAcks(view: ProxyView, tracker = new AckTracker()): ProxyAck[] {
  return tracker.acks(view);
}

function selects(policy: PeerAuthPolicy, p: ProxyInfo): boolean {
  if (policy.meshWide) return true;
  if (p.namespace !== policy.namespace) return false;
  return Object.entries(policy.selector ?? {}).every(([k, v]) => p.labels[k] === v);
}

function authorizes(model: MeshModel | undefined, key: string, p: ProxyInfo): boolean {
  const policy = model?.authorizations.find((a) => a.policy === key);
  if (policy?.meshWide) return true;
  if (p.namespace !== key.split('/')[0]) return false;
  if (policy?.service === undefined) return true;
  const selector = model?.services.get(`${policy.namespace}/${policy.service}`)?.selector;
  return selector !== undefined && Object.entries(selector).every(([k, v]) => p.labels[k] === v);
}

/** The proxies of the Pods behind the Service a RateLimitPolicy applies to (they enforce it). */
function rateLimitAffected(status: PolicyStatus, model: MeshModel | undefined, acks: readonly ProxyAck[]): ProxyAck[] {
  const svc = model ? [...model.services.values()].find((s) => s.rateLimit?.policy === status.key) : undefined;
  const selector = Object.entries(svc?.selector ?? {});
  if (!svc || selector.length === 0) return [...acks];
  return acks.filter((a) => a.proxy.namespace === svc.namespace && (a.proxy.service === svc.name || selector.every(([k, v]) => a.proxy.labels[k] === v)));
}

const ROUTE_KINDS: ReadonlySet<string> = new Set(['TrafficSplit', 'RetryPolicy', 'BackendPolicy', 'FaultPolicy']);
const routePolicyTargets = new WeakMap<MeshModel, Map<string, string>>();

/** `Kind ns/name` of every applied split, retry, backend and fault policy → its Service's `ns/name`. */
function routeTargets(model: MeshModel): Map<string, string> {
  let m = routePolicyTargets.get(model);
  if (m === undefined) {
    m = new Map();
    for (const [key, s] of model.services) {
      if (s.split) m.set(`TrafficSplit ${s.split.policy}`, key);
      if (s.retry) m.set(`RetryPolicy ${s.retry.policy}`, key);
      if (s.backend) m.set(`BackendPolicy ${s.backend.policy}`, key);
      if (s.fault) m.set(`FaultPolicy ${s.fault.policy}`, key);
    }
    routePolicyTargets.set(model, m);
  }
  return m;
}

export function affectedProxies(status: PolicyStatus, model: MeshModel | undefined, acks: readonly ProxyAck[]): ProxyAck[] {
  if (status.kind === 'AuthorizationPolicy') return acks.filter((a) => authorizes(model, status.key, a.proxy));
  if (status.kind === 'RateLimitPolicy') return rateLimitAffected(status, model, acks);
  if (status.kind === 'PeerAuth') {
    const policy = model?.peerAuths.find((p) => p.policy === status.key);
    const ns = status.key.split('/')[0];
    return acks.filter((a) => (policy ? selects(policy, a.proxy) : a.proxy.namespace === ns));
  }
  const target = model ? routeTargets(model).get(`${status.kind} ${status.key}`) : undefined;
  return target === undefined ? [] : acks.filter((a) => a.services?.has(target) === true);
}

export function tallyOf(affected: readonly ProxyAck[]): Tally {
  const rejected = affected.filter((a) => a.rejected);
  const first: Rejection | undefined = rejected[0]?.rejected && { proxy: rejected[0].proxy.id, ...rejected[0].rejected };
  return { affected: affected.length, acked: affected.filter((a) => a.acked).length, rejected: rejected.length, ...(first ? { first } : {}) };
}

function addTallies(a: Tally | undefined, b: Tally): Tally {
  if (a === undefined) return b;
  const first = a.first ?? b.first;
  return { affected: a.affected + b.affected, acked: a.acked + b.acked, rejected: a.rejected + b.rejected, ...(first ? { first } : {}) };
}

/**
 * This replica's report: a tally for every resource of the model that affects a proxy
 * connected here. Route policies are tallied per set of received Services (shared by the
 * proxies of a group, xds/snapshot/received.ts), so 10,000 proxies cost one pass over them
 * plus resources × distinct sets, not resources × proxies.
 */
export function localReport(replica: string, model: MeshModel | undefined, acks: readonly ProxyAck[]): ReplicaReport {
  const resources = new Map<string, Tally>();
  const bySet = new Map<ReadonlySet<string>, ProxyAck[]>();
  for (const a of acks) {
    if (a.services === undefined || a.services.size === 0) continue;
    const list = bySet.get(a.services);
    if (list) list.push(a);
    else bySet.set(a.services, [a]);
  }
  const setTallies = [...bySet].map(([set, list]) => [set, tallyOf(list)] as const);
  const targets = model ? routeTargets(model) : undefined;
  for (const s of model?.statuses ?? []) {
    if (!s.conditions.some((c) => c.type === 'Accepted' && c.status === 'True')) continue;
    const key = `${s.kind} ${s.key}`;
    if (ROUTE_KINDS.has(s.kind)) {
      const target = targets?.get(key);
      let t: Tally | undefined;
      if (target !== undefined) for (const [set, tally] of setTallies) if (set.has(target)) t = addTallies(t, tally);
      if (t !== undefined) resources.set(key, t);
      continue;
    }
    const affected = affectedProxies(s, model, acks);
    if (affected.length > 0) resources.set(key, tallyOf(affected));
  }
  return { replica, configVersion: model ? configVersion(model) : '', modelVersion: model?.version ?? '', proxies: acks.length, resources };
}

/** This replica's report, shared by the status writer and the report publisher (recomputed at most every `maxAgeMs`). */
export class LocalProgress {
  readonly identity: string;
  readonly #view: ProxyView;
  readonly #tracker = new AckTracker();
  readonly #maxAgeMs: number;
  #last: { at: number; model: MeshModel | undefined; report: ReplicaReport } | undefined;

  constructor(identity: string, view: ProxyView, maxAgeMs = 200) {
    this.identity = identity;
    this.#view = view;
    this.#maxAgeMs = maxAgeMs;
  }

  report(): ReplicaReport {
    const now = performance.now();
    const model = this.#view.model();
    if (this.#last && this.#last.model === model && now - this.#last.at < this.#maxAgeMs) return this.#last.report;
    const report = localReport(this.identity, model, this.#tracker.acks(this.#view));
    this.#last = { at: now, model, report };
    return report;
  }
}
