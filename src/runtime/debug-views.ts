// The debug views about namespaced things, answered for the namespaces the caller may read
// (access/scope.ts): /debug/proxies (who is connected to this replica) and /debug/proxy-config
// (what this replica serves one proxy). A caller asking about a namespace they may not read gets
// 403 whether or not anything is there; a proxy looked up by id alone that is missing or in such
// a namespace is one 404, so neither answer tells that something exists.
import { debugProxies, type ProxyDebug } from '../../xds/server/debug.ts';
import type { StreamDebug } from '../../xds/server/stream-debug.ts';
import type { CachedSnapshot } from '../../xds/snapshot/types.ts';
import { proxyConfig } from '../../xds/server/debug-config.ts';
import { readable, type ReadScope } from './access/scope.ts';
import type { ScopedAnswer, ScopedRequest, ScopedView } from './monitoring.ts';

const forbidden = (namespace: string): ScopedAnswer => ({
  status: 403,
  body: { error: `you may not get proxies.mesh.weft.dev in namespace ${namespace}` },
});

async function visible(proxies: ProxyDebug[], scope: ReadScope, namespace: string | undefined): Promise<ProxyDebug[] | ScopedAnswer> {
  if (namespace !== undefined) {
    if (!(await scope.may(namespace))) return forbidden(namespace);
    return proxies.filter((p) => p.namespace === namespace);
  }
  const ok = await readable(
    scope,
    proxies.map((p) => p.namespace),
  );
  return proxies.filter((p) => ok.has(p.namespace));
}

/** Every stream's view, on this thread or the xDS workers' (RunningXdsServer.streams, xds/server/workers.ts). */
interface Streams {
  debug(): StreamDebug[] | Promise<StreamDebug[]>;
  pinnedSnapshot(stream: string): CachedSnapshot | undefined | Promise<CachedSnapshot | undefined>;
}

async function proxiesView(ads: Pick<Streams, 'debug'>, req: ScopedRequest): Promise<ScopedAnswer> {
  const v = await visible(debugProxies(await ads.debug()), req.scope, req.query.namespace);
  return Array.isArray(v) ? { status: 200, body: v } : v;
}

async function proxyConfigView(ads: Streams, req: ScopedRequest): Promise<ScopedAnswer> {
  const { namespace, pod, id } = req.query;
  if ((pod === undefined) === (id === undefined) || (pod !== undefined && namespace === undefined)) {
    return { status: 400, body: { error: 'ask for ?namespace=NS&pod=POD or ?id=PROXY_ID' } };
  }
  const v = await visible(debugProxies(await ads.debug()), req.scope, namespace);
  if (!Array.isArray(v)) return v;
  // The newest stream of that proxy: a reconnect may overlap its old stream for a moment.
  const match = v.filter((p) => (id !== undefined ? p.id === id : p.pod === pod)).sort((a, b) => b.connectedSince.localeCompare(a.connectedSince))[0];
  if (match === undefined) {
    const what = id !== undefined ? `proxy ${id}` : `a proxy of pod ${namespace}/${pod}`;
    return { status: 404, body: { error: `${what} is not connected to this replica` } };
  }
  return { status: 200, body: await proxyConfig(match, await ads.pinnedSnapshot(match.stream)) };
}

export function scopedDebugViews(ads: Streams): Record<string, ScopedView> {
  return {
    proxies: (req) => proxiesView(ads, req),
    'proxy-config': (req) => proxyConfigView(ads, req),
  };
}
