// Access logs and tracing on a sidecar's listeners (docs/telemetry.md). Translation builds the
// listeners once per model (memoized, shared by every proxy); a proxy whose node metadata turns
// access logs or tracing on gets copies whose connection managers and TCP proxies carry them,
// built once per (listener, switches) so equal proxies still share message objects.
import { clone, create, type JsonObject } from '@bufbuild/protobuf';
import { anyIs, anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema, type Listener } from '../gen/envoy/config/listener/v3/listener_pb.js';
import type { FilterChain } from '../gen/envoy/config/listener/v3/listener_components_pb.js';
import { AccessLogSchema, type AccessLog } from '../gen/envoy/config/accesslog/v3/accesslog_pb.js';
import { StdoutAccessLogSchema } from '../gen/envoy/extensions/access_loggers/stream/v3/stream_pb.js';
import {
  HttpConnectionManagerSchema,
  HttpConnectionManager_TracingSchema,
  type HttpConnectionManager_Tracing,
} from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { OpenTelemetryConfigSchema } from '../gen/envoy/config/trace/v3/opentelemetry_pb.js';
import { EXPLICIT_INBOUND_LISTENER, OTLP_CLUSTER, VIRTUAL_INBOUND_LISTENER } from '../resources/names.ts';
import { duration } from './common.ts';

/** What translation reads of ProxyInfo.telemetry (plus the identity spans carry). */
export interface TelemetrySpec {
  readonly accessLog: boolean;
  /** Percent; undefined: no tracing. */
  readonly traceSampling?: number;
  /** The span service name: `<workload>.<namespace>`. */
  readonly serviceName: string;
  readonly identity?: string;
}

export function telemetrySpecKey(t: TelemetrySpec | undefined): string {
  return t ? `${t.accessLog}:${t.traceSampling ?? ''}:${t.serviceName}:${t.identity ?? ''}` : '';
}

export const STDOUT_ACCESS_LOG = 'envoy.access_loggers.stdout';
export const OTEL_TRACER = 'envoy.tracers.opentelemetry';

/**
 * One JSON object per line on the sidecar's stdout. Keys are the documented field names
 * (docs/telemetry.md); Envoy writes null for what a connection does not have (a TCP
 * connection's method, an unauthenticated peer's identity).
 */
export const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  start_time: '%START_TIME%',
  direction: '', // filled per listener
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  authority: '%REQ(:AUTHORITY)%',
  protocol: '%PROTOCOL%',
  response_code: '%RESPONSE_CODE%',
  response_flags: '%RESPONSE_FLAGS%',
  duration_ms: '%DURATION%',
  upstream_cluster: '%UPSTREAM_CLUSTER%',
  upstream_host: '%UPSTREAM_HOST%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  downstream_peer_identity: '%DOWNSTREAM_PEER_URI_SAN%',
  upstream_peer_identity: '%UPSTREAM_PEER_URI_SAN%',
  downstream_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  request_id: '%REQ(X-REQUEST-ID)%',
  trace_id: '%TRACE_ID%',
};

function accessLog(direction: 'inbound' | 'outbound'): AccessLog {
  const format: JsonObject = { ...ACCESS_LOG_FIELDS, direction };
  const stdout = create(StdoutAccessLogSchema, { accessLogFormat: { case: 'logFormat', value: { format: { case: 'jsonFormat', value: format } } } });
  return create(AccessLogSchema, { name: STDOUT_ACCESS_LOG, configType: { case: 'typedConfig', value: anyPack(StdoutAccessLogSchema, stdout) } });
}

/** HCM tracing: the OpenTelemetry tracer to the bootstrap's OTLP cluster, W3C trace context. */
export function hcmTracing(t: TelemetrySpec & { traceSampling: number }): HttpConnectionManager_Tracing {
  const otel = create(OpenTelemetryConfigSchema, {
    grpcService: { targetSpecifier: { case: 'envoyGrpc', value: { clusterName: OTLP_CLUSTER } }, timeout: duration(1_000) },
    serviceName: t.serviceName,
  });
  const literal = (tag: string, value: string) => ({ tag, type: { case: 'literal' as const, value: { value } } });
  return create(HttpConnectionManager_TracingSchema, {
    randomSampling: { value: t.traceSampling },
    customTags: [literal('weft.service', t.serviceName), ...(t.identity ? [literal('weft.identity', t.identity)] : [])],
    provider: { name: OTEL_TRACER, configType: { case: 'typedConfig', value: anyPack(OpenTelemetryConfigSchema, otel) } },
  });
}

function decorateChain(chain: FilterChain, t: TelemetrySpec, direction: 'inbound' | 'outbound'): void {
  for (const f of chain.filters) {
    const any = f.configType.case === 'typedConfig' ? f.configType.value : undefined;
    if (!any) continue;
    if (anyIs(any, HttpConnectionManagerSchema)) {
      const hcm = anyUnpack(any, HttpConnectionManagerSchema);
      if (!hcm) continue;
      if (t.accessLog) hcm.accessLog = [...hcm.accessLog, accessLog(direction)];
      if (t.traceSampling !== undefined) hcm.tracing = hcmTracing({ ...t, traceSampling: t.traceSampling });
      f.configType = { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) };
    } else if (t.accessLog && anyIs(any, TcpProxySchema)) {
      const tcp = anyUnpack(any, TcpProxySchema);
      if (!tcp) continue;
      tcp.accessLog = [...tcp.accessLog, accessLog(direction)];
      f.configType = { case: 'typedConfig', value: anyPack(TcpProxySchema, tcp) };
    }
  }
}

const memo = new WeakMap<Listener, Map<string, Listener>>();

/** `listener` with access logs and tracing per `t`; the same object for the same inputs. */
export function withTelemetry(listener: Listener, t: TelemetrySpec): Listener {
  const key = telemetrySpecKey(t);
  let byKey = memo.get(listener);
  const hit = byKey?.get(key);
  if (hit) return hit;
  const out = clone(ListenerSchema, listener);
  const direction = out.name === VIRTUAL_INBOUND_LISTENER || out.name === EXPLICIT_INBOUND_LISTENER ? 'inbound' : 'outbound';
  for (const chain of out.filterChains) decorateChain(chain, t, direction);
  if (out.defaultFilterChain) decorateChain(out.defaultFilterChain, t, direction);
  if (!byKey) memo.set(listener, (byKey = new Map()));
  byKey.set(key, out);
  return out;
}
