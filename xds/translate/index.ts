// translate(model, proxy): the Envoy resources one proxy needs. Pure: the output depends
// only on the model and on what translationSpec reads of the proxy — its kind, namespace,
// capture mode and listener ports, whether it has a certificate (and its trust domain), the
// mTLS modes PeerAuth gives its inbound ports (its labels only through those modes), its
// zone when a BackendPolicy asks for zone failover, its telemetry switches (access log,
// trace sampling, span service and identity) and its egress scope (egress.ts) —
// so proxies that agree on those get the very same arrays and message objects (memoized
// per model; see memo.ts for why identity matters to the snapshot cache).
import type { MeshModel } from '../../src/model/types.ts';
import type { ProxyInfo } from '../resources/proxy.ts';
import type { ResourceSet } from './types.ts';
import { MeshPorts } from '../../src/base/mesh-ports.ts';
import { sortByName } from './common.ts';
import { inboundClusters, mtlsOutboundClusters, outboundClusters, passthroughCluster, proxylessOutboundClusters } from './clusters.ts';
import { loadAssignments, zoneFailoverInUse } from './endpoints.ts';
import { explicitInboundListener, inboundPlan, inboundPlanKey, virtualInboundListener, type InboundPlan } from './inbound.ts';
import {
  explicitOutboundListener,
  outboundPortListeners,
  proxylessListeners,
  scopedOutboundPortListeners,
  scopedProxylessListeners,
  virtualOutboundListener,
} from './listeners.ts';
import { egressKey, egressView, withNames } from './egress.ts';
import { endpointFree } from '../../src/model/endpoint-free.ts';
import { memoByModelAndSpec } from './memo.ts';
import { trustDomainOf } from './mtls.ts';
import { telemetrySpecKey, withTelemetry, type TelemetrySpec } from './telemetry.ts';
import type { Listener } from '../gen/envoy/config/listener/v3/listener_pb.js';
import { captureRoutes, explicitRoutes, proxylessRoutes, scopedCaptureRoutes, scopedExplicitRoutes, scopedProxylessRoutes } from './routes.ts';

export type { ResourceSet } from './types.ts';
export { checkConsistency } from './consistency.ts';

/** Everything translation reads of a proxy (ids, identities and labels only through these). */
interface TranslationSpec {
  readonly mode: 'proxyless' | 'capture' | 'explicit';
  readonly namespace: string;
  /** `namespace/name` of the fronted service ('' for none). */
  readonly service: string;
  /** Explicit mode: the outbound HTTP proxy port. */
  readonly outboundPort?: number;
  /** Set when the proxy has a workload certificate (SDS): mTLS is possible. */
  readonly trustDomain?: string;
  readonly inbound?: InboundPlan;
  /** The caller's zone, only when some BackendPolicy asks for zone failover (else ''). */
  readonly zone: string;
  /** Access logs and tracing (sidecars whose node metadata turns them on). */
  readonly telemetry?: TelemetrySpec;
  /** Egress scope key (egress.ts egressKey); absent: every Service. */
  readonly egress?: string;
}

function translationSpec(model: MeshModel, proxy: ProxyInfo): TranslationSpec {
  const mode = proxy.kind === 'proxyless' ? 'proxyless' : proxy.capture ? 'capture' : 'explicit';
  const zone = zoneFailoverInUse(model) ? (proxy.zone ?? '') : '';
  const base = {
    mode,
    namespace: proxy.namespace,
    service: proxy.service ? `${proxy.namespace}/${proxy.service}` : '',
    zone,
    ...(proxy.egress === undefined ? {} : { egress: egressKey(proxy.egress) }),
  } as const;
  // Proxyless gRPC gets no SDS secrets and no inbound listeners.
  if (mode === 'proxyless') return base;
  const trustDomain = trustDomainOf(proxy.identity);
  const inbound = inboundPlan(model, proxy, trustDomain);
  const t = proxy.telemetry;
  const telemetry: TelemetrySpec | undefined =
    t && (t.accessLog || t.traceSampling !== undefined)
      ? {
          accessLog: t.accessLog,
          ...(t.traceSampling !== undefined ? { traceSampling: t.traceSampling } : {}),
          serviceName: `${t.workload ?? proxy.service ?? proxy.id}.${proxy.namespace}`,
          ...((proxy.identity ?? t.identity) !== undefined ? { identity: proxy.identity ?? t.identity } : {}),
        }
      : undefined;
  return {
    ...base,
    ...(telemetry ? { telemetry } : {}),
    ...(mode === 'explicit' ? { outboundPort: proxy.outboundPort ?? MeshPorts.outbound } : {}),
    ...(trustDomain === undefined ? {} : { trustDomain }),
    ...(inbound ? { inbound } : {}),
  };
}

function specKey(s: TranslationSpec): string {
  return [
    s.mode,
    s.namespace,
    s.service,
    s.outboundPort ?? '',
    s.trustDomain ?? '',
    s.inbound ? inboundPlanKey(s.inbound) : '',
    s.zone,
    telemetrySpecKey(s.telemetry),
    s.egress === undefined ? '*' : `egress:${s.egress}`,
  ].join('|');
}

type ConfigPart = Omit<ResourceSet, 'secrets' | 'endpoints'>;

/** Everything but the CLAs, from the endpoint-free view (src/model/endpoint-free.ts): shared across models that differ only in endpoints. */
const configPart = memoByModelAndSpec(specKey, (cfg: MeshModel, spec: TranslationSpec): ConfigPart => {
  // An egress scope keeps the outbound resources of its Services (egress.ts); inbound ones
  // (the proxy's own Service, PeerAuth, authorization, rate limits) never depend on it.
  const view = spec.egress === undefined ? undefined : egressView(cfg, spec.egress);
  const scoped = <T>(items: readonly T[], name: (t: T) => string): readonly T[] => (view ? withNames(items, name, view.clusters) : items);
  const scopeKey = `${spec.namespace}\n${spec.egress ?? ''}`;
  const outbound = scoped(spec.trustDomain === undefined ? outboundClusters(cfg) : mtlsOutboundClusters(cfg, spec.trustDomain), (c) => c.name);
  switch (spec.mode) {
    case 'proxyless':
      // gRPC understands neither ORIGINAL_DST nor inbound listeners: outbound only.
      return {
        clusters: scoped(proxylessOutboundClusters(cfg), (c) => c.name),
        listeners: view ? scopedProxylessListeners(cfg, scopeKey) : proxylessListeners(cfg, spec.namespace),
        routes: view ? scopedProxylessRoutes(cfg, scopeKey) : proxylessRoutes(cfg, spec.namespace),
      };
    case 'explicit': {
      const plan = spec.inbound;
      const inbound = plan ? inboundClusters(cfg, plan.ports) : [];
      return {
        clusters: inbound.length > 0 ? sortByName([...outbound, ...inbound]) : outbound,
        listeners: decorate(
          sortByName([explicitOutboundListener(spec.outboundPort ?? MeshPorts.outbound), ...(plan ? [explicitInboundListener(cfg, plan)] : [])]),
          spec.telemetry,
        ),
        routes: view ? scopedExplicitRoutes(cfg, scopeKey) : explicitRoutes(cfg, spec.namespace),
      };
    }
    case 'capture':
      return {
        clusters: sortByName([...outbound, passthroughCluster, ...inboundClusters(cfg, spec.inbound?.ports ?? [])]),
        listeners: decorate(
          sortByName([
            virtualOutboundListener,
            ...(view ? scopedOutboundPortListeners(cfg, spec.egress ?? '') : outboundPortListeners(cfg)),
            virtualInboundListener(cfg, spec.inbound ?? { ports: [] }),
          ]),
          spec.telemetry,
        ),
        routes: view ? scopedCaptureRoutes(cfg, scopeKey) : captureRoutes(cfg, spec.namespace),
      };
  }
});

/** The CLAs a proxy gets: its zone's view of every Service's endpoints, within its egress scope. */
const endpointPart = memoByModelAndSpec(
  (spec: TranslationSpec) => `${spec.zone}|${spec.egress ?? '*'}`,
  (model: MeshModel, spec: TranslationSpec): ResourceSet['endpoints'] => {
    const all = loadAssignments(model, spec.zone);
    if (spec.egress === undefined) return all;
    return withNames(all, (c) => c.clusterName, egressView(endpointFree(model), spec.egress).clusters);
  },
);

const bySpec = memoByModelAndSpec(specKey, (model: MeshModel, spec: TranslationSpec): ResourceSet =>
  // SDS secrets are per identity and come from the CA, not from the model (xds/secrets).
  Object.freeze({ ...configPart(endpointFree(model), spec), endpoints: endpointPart(model, spec), secrets: [] }),
);

function decorate(listeners: readonly Listener[], t: TelemetrySpec | undefined): readonly Listener[] {
  return t ? listeners.map((l) => withTelemetry(l, t)) : listeners;
}

/** The resources for one proxy, every list sorted by name. Never throws on a valid model. */
export function translate(model: MeshModel, proxy: ProxyInfo): ResourceSet {
  return bySpec(model, translationSpec(endpointFree(model), proxy));
}
