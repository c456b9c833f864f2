// The ordered route list for one service port: where a request goes (TrafficSplit),
// whether it may be retried (RetryPolicy of the service clients call) and what a ring hash
// or Maglev balancer hashes (BackendPolicy of each destination, backend-policy.ts).
//
// Envoy takes the first matching route, so the list is built as a product:
//   exemptions (exempt paths, then non-idempotent methods), each crossed with every
//   destination class (split matches, then the catch-all) — no retry policy;
//   then every destination class alone — with the retry policy.
// Each route keeps the destination its request would have had without the exemption,
// so exempting a path never changes where it goes, only whether it is retried.
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import {
  RetryPolicySchema,
  RouteSchema,
  WeightedClusterSchema,
  type RetryPolicy,
  type Route,
  type RouteAction_HashPolicy,
  type RouteAction,
} from '../gen/envoy/config/route/v3/route_components_pb.js';
import { PreviousHostsPredicateSchema } from '../gen/envoy/extensions/retry/host/previous_hosts/v3/previous_hosts_pb.js';
import type { MeshModel, MeshService, ResolvedRetry, ServicePort } from '../../src/model/types.ts';
import { outboundClusterName } from '../resources/names.ts';
import { routeHashPolicies } from './backend-policy.ts';
import { duration, FilterName } from './common.ts';
import { compareStrings } from '../../src/base/order.ts';
import { andCond, condFromMatch, methodMatcher, routeMatch, type Cond, type MatchFlavor } from './matchers.ts';
import { isHttpPort, lookupService } from './model-view.ts';

/** Methods Envoy would otherwise retry although repeating them may repeat a side effect. */
export const NON_IDEMPOTENT_METHODS = ['POST', 'PATCH'] as const;

/** How many hosts Envoy may try to pick one not tried before (previous_hosts predicate). */
export const HOST_SELECTION_RETRY_MAX_ATTEMPTS = 5n;

export type RouteFlavor = MatchFlavor;

type ClusterSpecifier = RouteAction['clusterSpecifier'];

interface DestinationClass {
  readonly label: string;
  readonly cond: Cond;
  readonly dest: ClusterSpecifier;
  readonly hash: readonly RouteAction_HashPolicy[];
}

interface Exemption {
  readonly label: string;
  readonly cond: Cond;
}

const everything: Cond = { headers: [] };

/**
 * TrafficSplit backends at this port number: a backend without the port (or not an HTTP
 * port there) is skipped; duplicates add up. Undefined when no backend is left, so the
 * root service serves.
 */
function splitDestination(model: MeshModel, svc: MeshService, port: ServicePort): { dest: ClusterSpecifier; services: MeshService[] } | undefined {
  const weights = new Map<string, number>();
  const services = new Map<string, MeshService>();
  for (const b of svc.split?.backends ?? []) {
    const backend = lookupService(model, svc.namespace, b.service);
    const bp = backend?.ports.find((p) => p.port === port.port && isHttpPort(p));
    if (!backend || !bp || b.weight <= 0) continue;
    const name = outboundClusterName(backend, port.port);
    weights.set(name, (weights.get(name) ?? 0) + b.weight);
    services.set(name, backend);
  }
  const names = [...weights.keys()].sort(compareStrings);
  const backends = names.flatMap((n) => services.get(n) ?? []);
  if (names.length === 0) return undefined;
  if (names.length === 1) return { dest: { case: 'cluster', value: names[0] ?? '' }, services: backends };
  return {
    dest: { case: 'weightedClusters', value: create(WeightedClusterSchema, { clusters: names.map((name) => ({ name, weight: weights.get(name) })) }) },
    services: backends,
  };
}

function destinationClasses(model: MeshModel, svc: MeshService, port: ServicePort): DestinationClass[] {
  const root: ClusterSpecifier = { case: 'cluster', value: outboundClusterName(svc, port.port) };
  const rootHash = routeHashPolicies([svc]);
  const split = splitDestination(model, svc, port);
  if (!split || !svc.split) return [{ label: 'default', cond: everything, dest: root, hash: rootHash }];
  const splitHash = routeHashPolicies(split.services);
  if (svc.split.matches.length === 0) return [{ label: 'split', cond: everything, dest: split.dest, hash: splitHash }];
  return [
    ...svc.split.matches.map((m, i) => ({ label: `split-${i}`, cond: condFromMatch(m), dest: split.dest, hash: splitHash })),
    { label: 'default', cond: everything, dest: root, hash: rootHash },
  ];
}

/** `/healthz` exempts `/healthz` and `/healthz/…` (not `/healthzx`); `/` exempts everything. */
function exemptions(retry: ResolvedRetry, port: ServicePort, flavor: RouteFlavor): Exemption[] {
  const paths = [...new Set(retry.exemptPaths.map((p) => p.replace(/\/+$/, '')))].sort(compareStrings);
  const out: Exemption[] = paths.flatMap((p): Exemption[] =>
    p === ''
      ? [{ label: 'exempt:/', cond: { path: { kind: 'prefix', value: '/' }, headers: [] } }]
      : [
          { label: `exempt:${p}`, cond: { path: { kind: 'exact', value: p }, headers: [] } },
          { label: `exempt:${p}/`, cond: { path: { kind: 'prefix', value: `${p}/` }, headers: [] } },
        ],
  );
  // Every gRPC call is a POST: the method says nothing about idempotency there, and
  // proxyless clients only speak gRPC. Exempting POST would disable retries entirely.
  if (!retry.retryNonIdempotent && !flavor.proxyless && port.appProtocol !== 'grpc') {
    out.push({ label: 'non-idempotent', cond: { headers: [methodMatcher(NON_IDEMPOTENT_METHODS)] } });
  }
  return out;
}

export function retryPolicy(retry: ResolvedRetry): RetryPolicy {
  const codes = [...new Set(retry.retriableStatusCodes)].sort((a, b) => a - b);
  return create(RetryPolicySchema, {
    // The model already speaks Envoy's tokens (and requires retriable-status-codes with codes).
    retryOn: [...new Set(retry.retryOn)].join(','),
    numRetries: retry.attempts,
    ...(retry.perTryTimeoutMs !== undefined ? { perTryTimeout: duration(retry.perTryTimeoutMs) } : {}),
    ...(retry.backoff ? { retryBackOff: { baseInterval: duration(retry.backoff.baseIntervalMs), maxInterval: duration(retry.backoff.maxIntervalMs) } } : {}),
    retriableStatusCodes: codes,
    retryHostPredicate: [
      {
        name: FilterName.previousHosts,
        configType: { case: 'typedConfig', value: anyPack(PreviousHostsPredicateSchema, create(PreviousHostsPredicateSchema)) },
      },
    ],
    hostSelectionRetryMaxAttempts: HOST_SELECTION_RETRY_MAX_ATTEMPTS,
  });
}

function route(name: string, cond: Cond, d: DestinationClass, svc: MeshService, policy: RetryPolicy | undefined, flavor: RouteFlavor): Route {
  const timeoutMs = svc.retry?.timeoutMs;
  return create(RouteSchema, {
    name,
    match: routeMatch(cond, flavor),
    action: {
      case: 'route',
      value: {
        clusterSpecifier: d.dest,
        ...(d.hash.length > 0 ? { hashPolicy: [...d.hash] } : {}),
        // 0s disables Envoy's 15s default, which would cut long requests and streams.
        timeout: duration(timeoutMs ?? 0),
        ...(policy ? { retryPolicy: policy } : {}),
        // gRPC clients ignore `timeout`; they read max_stream_duration.
        ...(flavor.proxyless && timeoutMs !== undefined ? { maxStreamDuration: { maxStreamDuration: duration(timeoutMs) } } : {}),
      },
    },
  });
}

/** The routes of one service port's virtual host, in match order. */
export function serviceRoutes(model: MeshModel, svc: MeshService, port: ServicePort, flavor: RouteFlavor): Route[] {
  const classes = destinationClasses(model, svc, port);
  const retry = svc.retry;
  // attempts 0 means no retries: no policy at all (gRPC rejects num_retries 0).
  const policy = retry && retry.attempts > 0 ? retryPolicy(retry) : undefined;
  const exempt = retry && policy ? exemptions(retry, port, flavor) : [];
  const routes: Route[] = [];
  for (const e of exempt) {
    for (const d of classes) {
      const cond = andCond(e.cond, d.cond);
      if (cond) routes.push(route(`${e.label}|${d.label}`, cond, d, svc, undefined, flavor));
    }
  }
  for (const d of classes) routes.push(route(d.label, d.cond, d, svc, policy, flavor));
  return routes;
}
