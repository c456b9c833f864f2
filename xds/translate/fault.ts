// FaultPolicy on the caller side: Envoy's fault filter sits in every sidecar's outbound HTTP
// connection manager (before the router) with an empty configuration, which injects
// nothing; the virtual host of a Service with a FaultPolicy carries the faults as
// typed_per_filter_config. So a policy never changes a listener (no connection drain when
// chaos is switched on or off), only the routes, and nothing is injected by default.
// Caller side, as Istio does: the fault is seen exactly as a caller would see a slow or
// failing Service (its timeouts fire, its retries do not mask an abort, the Service's Pods
// and their sidecars need not be meshed), and a test can fault only the callers it aims at
// through headers. Proxyless gRPC clients do not get the filter (see docs/fault-injection.md).
import { create } from '@bufbuild/protobuf';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import { HTTPFaultSchema } from '../gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { HttpFilterSchema, type HttpFilter } from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { FractionalPercent_DenominatorType, type FractionalPercent } from '../gen/envoy/type/v3/percent_pb.js';
import { FractionalPercentSchema } from '../gen/envoy/type/v3/percent_pb.js';
import type { ResolvedFault } from '../../src/model/types.ts';
import { duration } from './common.ts';
import { headerMatcher } from './matchers.ts';

export const FAULT_FILTER = 'envoy.filters.http.fault';

/** Whole percentages as n/100; fractions (to 0.0001 %) as parts per million. */
export function fractionalPercent(percent: number): FractionalPercent {
  return Number.isInteger(percent)
    ? create(FractionalPercentSchema, { numerator: percent, denominator: FractionalPercent_DenominatorType.HUNDRED })
    : create(FractionalPercentSchema, { numerator: Math.round(percent * 10_000), denominator: FractionalPercent_DenominatorType.MILLION });
}

const emptyFault: HttpFilter = create(HttpFilterSchema, {
  name: FAULT_FILTER,
  configType: { case: 'typedConfig', value: anyPack(HTTPFaultSchema, create(HTTPFaultSchema)) },
});

/** The outbound filters that run before the router: the (empty) fault filter. */
export function outboundHttpFilters(): HttpFilter[] {
  return [emptyFault];
}

/** A virtual host's typed_per_filter_config for a Service with a FaultPolicy. */
export function faultPerFilterConfig(fault: ResolvedFault | undefined): Record<string, Any> {
  if (!fault) return {};
  const { delay, abort } = fault;
  const config = create(HTTPFaultSchema, {
    ...(delay
      ? { delay: { faultDelaySecifier: { case: 'fixedDelay', value: duration(delay.fixedDelayMs) }, percentage: fractionalPercent(delay.percent) } }
      : {}),
    ...(abort
      ? {
          abort: {
            errorType: abort.httpStatus !== undefined ? { case: 'httpStatus', value: abort.httpStatus } : { case: 'grpcStatus', value: abort.grpcStatus ?? 0 },
            percentage: fractionalPercent(abort.percent),
          },
        }
      : {}),
    headers: fault.headers.map(headerMatcher),
  });
  return { [FAULT_FILTER]: anyPack(HTTPFaultSchema, config) };
}
