// What retryOn means for gRPC (docs/grpc-retries.md). A gRPC call fails with an HTTP 200 and a
// grpc-status, so HTTP conditions such as `5xx` never see a server's UNAVAILABLE; and gRPC
// clients reading xDS (gRFC A44) honour only gRPC status names in retry_on and ignore the
// rest, so `[5xx, connect-failure, reset]` retried nothing for a proxyless client. On gRPC
// ports each condition therefore also names the gRPC status that stands for it:
//   - sidecar routes keep Envoy's own condition (an upstream reset or a refused connection is
//     still Envoy's to retry) and add the status;
//   - proxyless routes carry the statuses only: a failed connection, a reset or a refused
//     stream reaches a gRPC client as UNAVAILABLE.
// Conditions about HTTP status codes (retriable-4xx, retriable-status-codes) and Envoy's rate
// limiter have no gRPC status: they stay for sidecars and map to nothing proxyless.
import type { RetryOn } from '../api/bounds.ts';

/** gRPC status names gRPC clients honour in retry_on (gRFC A44), in Envoy's spelling. */
export const GRPC_RETRY_STATUSES = ['cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable'] as const;

/** For each Weft condition: the gRPC statuses it stands for on a gRPC port. */
export const GRPC_STATUSES_FOR: Readonly<Record<RetryOn, readonly string[]>> = {
  '5xx': ['unavailable'],
  'gateway-error': ['unavailable'],
  reset: ['unavailable'],
  'connect-failure': ['unavailable'],
  'refused-stream': ['unavailable'],
  'retriable-4xx': [],
  'retriable-status-codes': [],
  'envoy-ratelimited': [],
  cancelled: ['cancelled'],
  'deadline-exceeded': ['deadline-exceeded'],
  internal: ['internal'],
  'resource-exhausted': ['resource-exhausted'],
  unavailable: ['unavailable'],
};

/** Envoy conditions kept on a sidecar's gRPC route besides the statuses (Envoy acts on them itself). */
const SIDECAR_KEEPS: ReadonlySet<string> = new Set([
  '5xx',
  'gateway-error',
  'reset',
  'connect-failure',
  'refused-stream',
  'retriable-4xx',
  'retriable-status-codes',
  'envoy-ratelimited',
]);

/**
 * The retry_on tokens for a route to a gRPC port, from the policy's tokens (Weft's names are
 * Envoy's, see ENVOY_RETRY_ON). Order: Envoy's conditions first, then the statuses, each once.
 */
export function grpcRetryOn(retryOn: readonly string[], proxyless: boolean): string[] {
  const statuses = new Set<string>();
  for (const token of retryOn) for (const s of GRPC_STATUSES_FOR[token as RetryOn] ?? []) statuses.add(s);
  const kept = proxyless ? [] : retryOn.filter((t) => SIDECAR_KEEPS.has(t));
  return [...new Set([...kept, ...GRPC_RETRY_STATUSES.filter((s) => statuses.has(s))])];
}
