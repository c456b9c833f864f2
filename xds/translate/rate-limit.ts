// RateLimitPolicy on the receiving side: Envoy's local rate limit filter in the inbound HTTP
// connection manager of every Pod behind the target Service (after authorization, before
// the router), with one token bucket per rule as route-level typed_per_filter_config.
//
//   routes    one per rule, most specific first (the model's order), then the catch-all;
//             each carries its own LocalRateLimit (stat_prefix names the rule), the
//             catch-all the policy's spec.limit or nothing (unlimited).
//   perCaller a header_mutation filter first writes the mTLS peer's URI SAN into
//             x-weft-caller (a caller-sent value is removed first, so it cannot be forged);
//             the route's rate_limits turn it into a descriptor, and a wildcard descriptor
//             gives each distinct caller its own bucket. Callers without a certificate
//             have no header, hence no descriptor: they share the route's bucket.
// Rejected requests get 429 (gRPC: RESOURCE_EXHAUSTED) and retry-after; every response
// carries the draft-03 x-ratelimit-* headers. Buckets are per Envoy (per Pod) and shared by
// its worker threads and connections.
import { create } from '@bufbuild/protobuf';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import { RuntimeFractionalPercentSchema, HeaderValueOption_HeaderAppendAction, type RuntimeFractionalPercent } from '../gen/envoy/config/core/v3/base_pb.js';
import { RouteActionSchema, RouteSchema, type Route, type RouteAction } from '../gen/envoy/config/route/v3/route_components_pb.js';
import { XRateLimitHeadersRFCVersion } from '../gen/envoy/extensions/common/ratelimit/v3/ratelimit_pb.js';
import { HeaderMutationSchema } from '../gen/envoy/extensions/filters/http/header_mutation/v3/header_mutation_pb.js';
import { LocalRateLimitSchema, type LocalRateLimit } from '../gen/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb.js';
import { HttpFilterSchema, type HttpFilter } from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { FractionalPercent_DenominatorType } from '../gen/envoy/type/v3/percent_pb.js';
import type { RateLimitRule, ResolvedRateLimit, TokenBucket } from '../../src/model/types.ts';
import { duration } from './common.ts';
import { headerMatcher, routeMatch, type Cond } from './matchers.ts';

export const LOCAL_RATE_LIMIT_FILTER = 'envoy.filters.http.local_ratelimit';
export const HEADER_MUTATION_FILTER = 'envoy.filters.http.header_mutation';
/** The request header carrying the caller's SPIFFE ID to the rate limiter (and the app). */
export const CALLER_HEADER = 'x-weft-caller';
const CALLER_DESCRIPTOR = 'weft-caller';

const always = (runtimeKey: string): RuntimeFractionalPercent =>
  create(RuntimeFractionalPercentSchema, { defaultValue: { numerator: 100, denominator: FractionalPercent_DenominatorType.HUNDRED }, runtimeKey });

/** Filter-level config: no bucket of its own, so a route without per-route config is not limited. */
function filterConfig(): LocalRateLimit {
  return create(LocalRateLimitSchema, { statPrefix: 'weft_ratelimit' });
}

/** `/api/orders` + POST → `POST_api_orders`; `/` alone → `any`. For stat names. */
export function ruleLabel(rule: Pick<RateLimitRule, 'pathPrefix' | 'method'>): string {
  const path = rule.pathPrefix.replace(/[^A-Za-z0-9]+/g, '_').replace(/_+$/, '');
  return `${rule.method ?? 'any'}${path}`;
}

function bucket(b: TokenBucket) {
  return { maxTokens: b.burst, tokensPerFill: b.requests, fillInterval: duration(b.intervalMs) };
}

/** A route's limiter: `statPrefix` names it in the stats (`<statPrefix>.http_local_rate_limit.rate_limited`). */
function routeLimiter(statPrefix: string, b: TokenBucket, perCaller: boolean): Any {
  const retryAfter = String(Math.max(1, Math.ceil(b.intervalMs / 1000)));
  return anyPack(
    LocalRateLimitSchema,
    create(LocalRateLimitSchema, {
      statPrefix,
      tokenBucket: bucket(b),
      filterEnabled: always('weft.ratelimit.enabled'),
      filterEnforced: always('weft.ratelimit.enforced'),
      responseHeadersToAdd: [
        { header: { key: 'retry-after', value: retryAfter }, appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD },
      ],
      enableXRatelimitHeaders: XRateLimitHeadersRFCVersion.DRAFT_VERSION_03,
      rateLimitedAsResourceExhausted: true,
      ...(perCaller
        ? {
            // A wildcard entry (no value): one dynamic bucket per distinct caller.
            descriptors: [{ entries: [{ key: CALLER_DESCRIPTOR, value: '' }], tokenBucket: bucket(b) }],
            // Callers with a descriptor use only their own bucket, not the shared one too.
            alwaysConsumeDefaultTokenBucket: false,
          }
        : {}),
    }),
  );
}

/** The filters a port with this policy runs before the router (after authorization). */
export function rateLimitFilters(rl: ResolvedRateLimit | undefined): HttpFilter[] {
  if (!rl) return [];
  const perCaller = rl.rules.some((r) => r.perCaller);
  const callerHeader = create(HttpFilterSchema, {
    name: HEADER_MUTATION_FILTER,
    configType: {
      case: 'typedConfig',
      value: anyPack(
        HeaderMutationSchema,
        create(HeaderMutationSchema, {
          mutations: {
            requestMutations: [
              { action: { case: 'remove', value: CALLER_HEADER } },
              {
                action: {
                  case: 'append',
                  value: {
                    header: { key: CALLER_HEADER, value: '%DOWNSTREAM_PEER_URI_SAN%' },
                    appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
                  },
                },
              },
            ],
          },
        }),
      ),
    },
  });
  const limiter = create(HttpFilterSchema, {
    name: LOCAL_RATE_LIMIT_FILTER,
    configType: { case: 'typedConfig', value: anyPack(LocalRateLimitSchema, filterConfig()) },
  });
  return perCaller ? [callerHeader, limiter] : [limiter];
}

/**
 * The inbound routes of one port: without a policy, the one catch-all `default` route; with
 * one, a route per rule, then the catch-all with spec.limit when set. All send to `action`.
 */
export function inboundRoutes(rl: ResolvedRateLimit | undefined, port: number, cluster: string): Route[] {
  // 0s: no Envoy timeout towards the local app (its own deadlines apply).
  const action = (perCaller = false): RouteAction =>
    create(RouteActionSchema, {
      clusterSpecifier: { case: 'cluster', value: cluster },
      timeout: duration(0),
      ...(perCaller
        ? {
            rateLimits: [
              { actions: [{ actionSpecifier: { case: 'requestHeaders', value: { headerName: CALLER_HEADER, descriptorKey: CALLER_DESCRIPTOR } } }] },
            ],
          }
        : {}),
    });
  const catchAll = (limiter?: Any) =>
    create(RouteSchema, {
      name: 'default',
      match: { pathSpecifier: { case: 'prefix', value: '/' } },
      action: { case: 'route', value: action() },
      ...(limiter ? { typedPerFilterConfig: { [LOCAL_RATE_LIMIT_FILTER]: limiter } } : {}),
    });
  if (!rl) return [catchAll()];
  const prefix = `inbound_${port}.ratelimit`;
  const routes = rl.rules.map((r) => {
    const cond: Cond = {
      path: { kind: 'separatedPrefix', value: r.pathPrefix },
      headers: r.method ? [headerMatcher({ name: ':method', type: 'Exact', value: r.method })] : [],
    };
    const label = ruleLabel(r);
    return create(RouteSchema, {
      name: `ratelimit:${label}`,
      match: routeMatch(cond, { proxyless: false }),
      action: { case: 'route', value: action(r.perCaller) },
      typedPerFilterConfig: { [LOCAL_RATE_LIMIT_FILTER]: routeLimiter(`${prefix}.${label}`, r.limit, r.perCaller) },
    });
  });
  const last = catchAll(rl.limit ? routeLimiter(`${prefix}.default`, rl.limit, false) : undefined);
  return [...routes, last];
}
