// translate(model, proxy): the Envoy resources one proxy needs. Pure: the output depends
// only on the model and on what translationSpec reads of the proxy — its kind, namespace,
// capture mode and listener ports, whether it has a certificate (and its trust domain), the
// mTLS modes PeerAuth gives its inbound ports (its labels only through those modes), its
// zone when a BackendPolicy asks for zone failover, and its telemetry switches (access log,
// trace sampling, span service and identity) —
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
import { explicitOutboundListener, outboundPortListeners, proxylessListeners, virtualOutboundListener } from './listeners.ts';
import { memoByModelAndSpec } from './memo.ts';
import { trustDomainOf } from './mtls.ts';
import { telemetrySpecKey, withTelemetry, type TelemetrySpec } from './telemetry.ts';
import type { Listener } from '../gen/envoy/config/listener/v3/listener_pb.js';
import { captureRoutes, explicitRoutes, proxylessRoutes } from './routes.ts';

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
}

function translationSpec(model: MeshModel, proxy: ProxyInfo): TranslationSpec {
  const mode = proxy.kind === 'proxyless' ? 'proxyless' : proxy.capture ? 'capture' : 'explicit';
  const zone = zoneFailoverInUse(model) ? (proxy.zone ?? '') : '';
  const base = { mode, namespace: proxy.namespace, service: proxy.service ? `${proxy.namespace}/${proxy.service}` : '', zone } as const;
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
  ].join('|');
}

const bySpec = memoByModelAndSpec(specKey, (model: MeshModel, spec: TranslationSpec): ResourceSet => {
  const endpoints = loadAssignments(model, spec.zone);
  const outbound = spec.trustDomain === undefined ? outboundClusters(model) : mtlsOutboundClusters(model, spec.trustDomain);
  switch (spec.mode) {
    case 'proxyless':
      // gRPC understands neither ORIGINAL_DST nor inbound listeners: outbound only.
      return freeze({
        clusters: proxylessOutboundClusters(model),
        endpoints,
        listeners: proxylessListeners(model, spec.namespace),
        routes: proxylessRoutes(model, spec.namespace),
      });
    case 'explicit': {
      const plan = spec.inbound;
      const inbound = plan ? inboundClusters(model, plan.ports) : [];
      return freeze({
        clusters: inbound.length > 0 ? sortByName([...outbound, ...inbound]) : outbound,
        endpoints,
        listeners: decorate(
          sortByName([explicitOutboundListener(spec.outboundPort ?? MeshPorts.outbound), ...(plan ? [explicitInboundListener(model, plan)] : [])]),
          spec.telemetry,
        ),
        routes: explicitRoutes(model, spec.namespace),
      });
    }
    case 'capture':
      return freeze({
        clusters: sortByName([...outbound, passthroughCluster, ...inboundClusters(model, spec.inbound?.ports ?? [])]),
        endpoints,
        listeners: decorate(
          sortByName([virtualOutboundListener, ...outboundPortListeners(model), virtualInboundListener(model, spec.inbound ?? { ports: [] })]),
          spec.telemetry,
        ),
        routes: captureRoutes(model, spec.namespace),
      });
  }
});

function decorate(listeners: readonly Listener[], t: TelemetrySpec | undefined): readonly Listener[] {
  return t ? listeners.map((l) => withTelemetry(l, t)) : listeners;
}

function freeze(set: Omit<ResourceSet, 'secrets'>): ResourceSet {
  // SDS secrets are per identity and come from the CA, not from the model (xds/secrets).
  return Object.freeze({ ...set, secrets: [] });
}

/** The resources for one proxy, every list sorted by name. Never throws on a valid model. */
export function translate(model: MeshModel, proxy: ProxyInfo): ResourceSet {
  return bySpec(model, translationSpec(model, proxy));
}
