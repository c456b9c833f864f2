// Which Services' configuration a proxy receives: the virtual hosts of the route
// configurations its stream subscribes to (sidecars: one per service port, or the port and
// explicit-proxy configs holding several; proxyless gRPC clients: only the services they
// call). Programmed counts a proxy as affected by a TrafficSplit, RetryPolicy, BackendPolicy
// or FaultPolicy only when it receives that Service's routes, so it follows whatever scopes
// a proxy's configuration. Route configurations are decoded once per content (memo on the
// interned resource), never per stream.
import { fromBinary } from '@bufbuild/protobuf';
import { RouteConfigurationSchema } from '../gen/envoy/config/route/v3/route_pb.js';
import { serviceKeyOfName } from '../resources/names.ts';
import { TypeUrl } from '../resources/type-urls.ts';
import type { CachedSnapshot, EncodedResource } from './types.ts';

const byResource = new WeakMap<EncodedResource, readonly string[]>();

/** `namespace/name` of every Service with a virtual host in this route configuration. */
export function routeServices(r: EncodedResource): readonly string[] {
  let keys = byResource.get(r);
  if (keys === undefined) {
    const found = new Set<string>();
    const own = serviceKeyOfName(r.name);
    if (own !== undefined) found.add(own);
    try {
      for (const vh of fromBinary(RouteConfigurationSchema, r.bytes).virtualHosts) {
        const k = serviceKeyOfName(vh.name);
        if (k !== undefined) found.add(k);
      }
    } catch {
      // not a route configuration we can read: only its name counts
    }
    keys = [...found];
    byResource.set(r, keys);
  }
  return keys;
}

/** Per interned RDS type map: subscription (names joined) → services; proxies of a group share one answer. */
const bySubscription = new WeakMap<ReadonlyMap<string, EncodedResource>, Map<string, ReadonlySet<string>>>();
const NONE: ReadonlySet<string> = new Set();
const byNames = new WeakMap<readonly string[], { readonly routes: ReadonlyMap<string, EncodedResource>; readonly services: ReadonlySet<string> }>();

/** Services whose routes a stream subscribed to `routeNames` receives from `snap`. */
export function receivedServices(snap: CachedSnapshot | undefined, routeNames: '*' | readonly string[]): ReadonlySet<string> {
  const routes = snap?.resources.get(TypeUrl.Route);
  if (routes === undefined) return NONE;
  // The same names array (one per interned subscription, xds/server/stream-debug.ts) against the same routes: the last answer.
  const same = routeNames === '*' ? undefined : byNames.get(routeNames);
  if (same?.routes === routes) return same.services;
  let memo = bySubscription.get(routes);
  if (memo === undefined) bySubscription.set(routes, (memo = new Map()));
  const key = routeNames === '*' ? '*' : routeNames.join('\n');
  const hit = memo.get(key);
  if (hit !== undefined) {
    if (routeNames !== '*') byNames.set(routeNames, { routes, services: hit });
    return hit;
  }
  const out = new Set<string>();
  const add = (r: EncodedResource | undefined): void => {
    if (r) for (const k of routeServices(r)) out.add(k);
  };
  if (routeNames === '*') for (const r of routes.values()) add(r);
  else for (const n of routeNames) add(routes.get(n));
  if (memo.size > 1024) memo.clear(); // many distinct subscriptions: bound the memo
  memo.set(key, out);
  if (routeNames !== '*') byNames.set(routeNames, { routes, services: out });
  return out;
}
