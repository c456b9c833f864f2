// The Programmed condition: has every connected proxy this resource affects acknowledged
// the configuration built from the current model? Kept simple and honest:
//  - a proxy counts as acknowledged when the snapshot it is pinned to is its group's
//    snapshot for the CURRENT model and every type sent on its stream was ACKed (a NACK
//    leaves it unacknowledged);
//  - TrafficSplit, RetryPolicy, BackendPolicy and FaultPolicy shape outbound config every proxy
//    receives, so every connected proxy is affected; a PeerAuth affects the proxies its scope
//    selects (mesh-wide, its namespace, or its namespace and label selector); a RateLimitPolicy
//    the proxies of its target Service's Pods (selector), or every proxy for a selector-less one;
//    an AuthorizationPolicy shapes inbound config: the proxies of its namespace (all, when
//    mesh-wide) behind its target Service (the Service's selector), when it has one;
//  - no affected proxy connected: Unknown/NoProxies;
//  - a proxy that NACKed the version it was last sent: False/Rejected, naming the proxy and the
//    first part of Envoy's message (otherwise it would read Pending forever, without a reason).
import type { Condition, MeshModel, PeerAuthPolicy, PolicyStatus } from '../../model/types.ts';
import type { ProxyInfo } from '../../../xds/resources/proxy.ts';
import type { CachedSnapshot } from '../../../xds/snapshot/types.ts';
import type { StreamDebug } from '../../../xds/server/stream.ts';
import { resourceType } from '../../../xds/resources/type-urls.ts';

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
}

/** Envoy's NACK messages can run to kilobytes; the condition keeps the first part. */
const NACK_MESSAGE_CHARS = 240;

function rejection(s: StreamDebug): ProxyAck['rejected'] {
  const t = s.types.find((x) => x.lastNack !== undefined && x.lastNack.version === x.versionSent && x.versionAcked !== x.versionSent);
  if (!t?.lastNack) return undefined;
  const type = resourceType(t.typeUrl)?.label ?? t.typeUrl;
  const m = t.lastNack.message.replace(/\s+/g, ' ').trim();
  return { type, message: m.length > NACK_MESSAGE_CHARS ? `${m.slice(0, NACK_MESSAGE_CHARS)}...` : m };
}

/** One pass over the connected streams; reuse the result for every resource in a status pass. */
export function proxyAcks(view: ProxyView): ProxyAck[] {
  const model = view.model();
  return view.streams().map((s) => {
    const snap = model ? view.snapshotFor(s.proxy) : undefined;
    const acked =
      snap !== undefined &&
      snap.modelVersion === model?.version &&
      s.snapshotVersion === snap.version &&
      s.types.length > 0 &&
      s.types.every((t) => t.versionSent !== '' && t.versionAcked === t.versionSent);
    const rejected = acked ? undefined : rejection(s);
    return { proxy: s.proxy, acked, ...(rejected ? { rejected } : {}) };
  });
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

export function affectedProxies(status: PolicyStatus, model: MeshModel | undefined, acks: readonly ProxyAck[]): ProxyAck[] {
  if (status.kind === 'AuthorizationPolicy') return acks.filter((a) => authorizes(model, status.key, a.proxy));
  if (status.kind === 'RateLimitPolicy') return rateLimitAffected(status, model, acks);
  if (status.kind !== 'PeerAuth') return [...acks];
  const policy = model?.peerAuths.find((p) => p.policy === status.key);
  const ns = status.key.split('/')[0];
  return acks.filter((a) => (policy ? selects(policy, a.proxy) : a.proxy.namespace === ns));
}

const programmed = (status: Condition['status'], reason: string, message: string): Condition => ({ type: 'Programmed', status, reason, message });

export function programmedCondition(status: PolicyStatus, model: MeshModel | undefined, acks: readonly ProxyAck[]): Condition {
  const accepted = status.conditions.find((c) => c.type === 'Accepted');
  if (accepted?.status !== 'True') return programmed('False', 'NotAccepted', 'Not programmed: the resource is not accepted');
  if (status.conditions.some((c) => c.type === 'ResolvedRefs' && c.status === 'False')) {
    return programmed('False', 'RefsNotResolved', 'Not programmed: the resource has unresolved references and is not applied');
  }
  const affected = affectedProxies(status, model, acks);
  if (affected.length === 0) return programmed('Unknown', 'NoProxies', 'No connected proxy is affected by this resource');
  const n = affected.filter((a) => a.acked).length;
  const of = `${n}/${affected.length} proxies acknowledged the current configuration`;
  const rejected = affected.filter((a) => a.rejected);
  const [first] = rejected;
  if (first?.rejected) {
    const more = rejected.length > 1 ? ` (and ${rejected.length - 1} more)` : '';
    return programmed('False', 'Rejected', `${of}; proxy ${first.proxy.id}${more} rejected ${first.rejected.type}: ${first.rejected.message}`);
  }
  return n === affected.length ? programmed('True', 'Programmed', of) : programmed('False', 'Pending', `${of}; waiting for the rest`);
}
