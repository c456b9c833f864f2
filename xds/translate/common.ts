// Small builders every per-type module needs: durations, the ADS config source, the
// address shape, the HTTP connection manager and TCP proxy filters. Nothing here reads
// the model.
import { create } from '@bufbuild/protobuf';
import { anyPack, durationFromMs, type Duration } from '@bufbuild/protobuf/wkt';
import { ApiVersion, ConfigSourceSchema, type ConfigSource } from '../gen/envoy/config/core/v3/config_source_pb.js';
import { AddressSchema, type Address } from '../gen/envoy/config/core/v3/address_pb.js';
import { FilterSchema, type Filter } from '../gen/envoy/config/listener/v3/listener_components_pb.js';
import type { RouteConfiguration } from '../gen/envoy/config/route/v3/route_pb.js';
import {
  HttpConnectionManagerSchema,
  HttpConnectionManager_CodecType,
  HttpFilterSchema,
  type HttpConnectionManager,
  type HttpFilter,
} from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RouterSchema } from '../gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { TcpProxySchema } from '../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import type { HashPolicy } from '../gen/envoy/type/v3/hash_policy_pb.js';
import { compareStrings } from '../../src/base/order.ts';

/** Well-known extension names (Envoy resolves typed_config by type URL; names are for humans and stats). */
export const FilterName = {
  httpConnectionManager: 'envoy.filters.network.http_connection_manager',
  tcpProxy: 'envoy.filters.network.tcp_proxy',
  router: 'envoy.filters.http.router',
  originalDst: 'envoy.filters.listener.original_dst',
  tlsInspector: 'envoy.filters.listener.tls_inspector',
  networkRbac: 'envoy.filters.network.rbac',
  previousHosts: 'envoy.retry_host_predicates.previous_hosts',
  upstreamHttpProtocolOptions: 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
} as const;

export function duration(ms: number): Duration {
  return durationFromMs(ms);
}

/**
 * RDS/EDS over the same ADS stream the proxy bootstrapped with. resource_api_version V3
 * is required: Envoy rejects the AUTO (v2) default.
 */
export function adsConfigSource(): ConfigSource {
  return create(ConfigSourceSchema, { configSourceSpecifier: { case: 'ads', value: {} }, resourceApiVersion: ApiVersion.V3 });
}

export function socketAddress(address: string, port: number): Address {
  return create(AddressSchema, {
    address: { case: 'socketAddress', value: { address, portSpecifier: { case: 'portValue', value: port } } },
  });
}

/** Sorts by `name` (code-unit order, locale independent) without touching the input. */
export function sortByName<T extends { readonly name: string }>(items: Iterable<T>): T[] {
  return [...items].sort((a, b) => compareStrings(a.name, b.name));
}

function routerFilter(): HttpFilter {
  return create(HttpFilterSchema, {
    name: FilterName.router,
    configType: { case: 'typedConfig', value: anyPack(RouterSchema, create(RouterSchema)) },
  });
}

export type HcmRoutes = { readonly rds: string } | { readonly inline: RouteConfiguration };

export interface HcmOptions {
  readonly statPrefix: string;
  readonly routes: HcmRoutes;
  /** Accept absolute-form request URIs (`GET http://host:port/ HTTP/1.1`): explicit HTTP proxy mode. */
  readonly absoluteUrls?: boolean;
  /**
   * Policy filters (authorization, rate limit, fault, ...) in the order they run; the router
   * is appended last. Each policy module builds its own filter and says where it goes.
   */
  readonly httpFilters?: readonly HttpFilter[];
}

/**
 * The HTTP connection manager every HTTP listener uses. stat_prefix is required by
 * Envoy; the router must be the last (here: only) HTTP filter. Path normalization keeps
 * route matching and the exempt-path rules honest against `/a/../b` tricks.
 */
export function httpConnectionManager(opts: HcmOptions): HttpConnectionManager {
  return create(HttpConnectionManagerSchema, {
    statPrefix: opts.statPrefix,
    codecType: HttpConnectionManager_CodecType.AUTO,
    routeSpecifier:
      'rds' in opts.routes
        ? { case: 'rds', value: { configSource: adsConfigSource(), routeConfigName: opts.routes.rds } }
        : { case: 'routeConfig', value: opts.routes.inline },
    httpFilters: [...(opts.httpFilters ?? []), routerFilter()],
    normalizePath: true,
    generateRequestId: true,
    // Envoy refuses HTTP/1.1 Upgrade unless listed; apps behind a mesh expect websockets to work.
    upgradeConfigs: [{ upgradeType: 'websocket' }],
    ...(opts.absoluteUrls ? { httpProtocolOptions: { allowAbsoluteUrl: true } } : {}),
  });
}

export function hcmFilter(opts: HcmOptions): Filter {
  return create(FilterSchema, {
    name: FilterName.httpConnectionManager,
    configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, httpConnectionManager(opts)) },
  });
}

export function tcpProxyFilter(statPrefix: string, cluster: string, hashPolicy: readonly HashPolicy[] = []): Filter {
  const tcp = create(TcpProxySchema, { statPrefix, clusterSpecifier: { case: 'cluster', value: cluster }, hashPolicy: [...hashPolicy] });
  return create(FilterSchema, {
    name: FilterName.tcpProxy,
    configType: { case: 'typedConfig', value: anyPack(TcpProxySchema, tcp) },
  });
}
