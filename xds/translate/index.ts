// translate(model, proxy): the Envoy resources one proxy needs. Pure: the output depends
// only on the model and the proxy's kind, namespace, service and capture mode, so proxies
// that agree on those get the very same arrays and message objects (memoized per model;
// see memo.ts for why identity matters to the snapshot cache).
import type { MeshModel } from '../../src/model/types.ts';
import type { ProxyInfo } from '../proxy.ts';
import type { ResourceSet } from './types.ts';
import { MeshPorts } from '../../src/mesh-ports.ts';
import { sortByName } from './common.ts';
import { inboundClusters, outboundClusters, passthroughCluster } from './clusters.ts';
import { loadAssignments } from './endpoints.ts';
import {
  explicitOutboundListener,
  outboundPortListeners,
  proxylessListeners,
  virtualInboundListener,
  virtualOutboundListener,
} from './listeners.ts';
import { memoByModelAndKey } from './memo.ts';
import { captureRoutes, explicitRoutes, proxylessRoutes } from './routes.ts';

export type { ResourceSet } from './types.ts';
export { checkConsistency } from './consistency.ts';

/** What of a ProxyInfo translation reads; everything else (id, labels, identity) is ignored. */
function translationKey(proxy: ProxyInfo): string {
  const mode = proxy.kind === 'proxyless' ? 'proxyless' : proxy.capture ? 'capture' : 'explicit';
  return `${mode}|${proxy.namespace}|${proxy.service ?? ''}|${mode === 'explicit' ? (proxy.outboundPort ?? '') : ''}`;
}

const byKey = memoByModelAndKey((model: MeshModel, key: string): ResourceSet => {
  const [mode = '', ns = '', service = '', outboundPort = ''] = key.split('|');
  const serviceKey = service ? `${ns}/${service}` : '';
  const endpoints = loadAssignments(model);
  switch (mode) {
    case 'proxyless':
      // gRPC understands neither ORIGINAL_DST nor inbound listeners: outbound only.
      return freeze({
        clusters: outboundClusters(model),
        endpoints,
        listeners: proxylessListeners(model, ns),
        routes: proxylessRoutes(model, ns),
      });
    case 'explicit':
      return freeze({
        clusters: outboundClusters(model),
        endpoints,
        listeners: [explicitOutboundListener(outboundPort ? Number(outboundPort) : MeshPorts.outbound)],
        routes: explicitRoutes(model, ns),
      });
    default:
      return freeze({
        clusters: sortByName([...outboundClusters(model), passthroughCluster, ...inboundClusters(model, serviceKey)]),
        endpoints,
        listeners: sortByName([virtualOutboundListener, ...outboundPortListeners(model), virtualInboundListener(model, serviceKey)]),
        routes: captureRoutes(model, ns),
      });
  }
});

function freeze(set: Omit<ResourceSet, 'secrets'>): ResourceSet {
  // SDS secrets are per identity and come from the CA, not from the model (another issue).
  return Object.freeze({ ...set, secrets: [] });
}

/** The resources for one proxy, every list sorted by name. Never throws on a valid model. */
export function translate(model: MeshModel, proxy: ProxyInfo): ResourceSet {
  return byKey(model, translationKey(proxy));
}
