// docs/grpc-retries.md's table, row by row, and the example's list.
import { describe, expect, it } from 'vitest';
import { RETRY_ON } from '../../src/api/bounds.ts';
import { GRPC_RETRY_STATUSES, grpcRetryOn } from '../../src/model/grpc-retry-on.ts';

describe('grpcRetryOn', () => {
  it('maps examples/proxyless’s [5xx, connect-failure, reset] to UNAVAILABLE for both kinds of caller', () => {
    expect(grpcRetryOn(['5xx', 'reset', 'connect-failure'], true)).toEqual(['unavailable']);
    expect(grpcRetryOn(['5xx', 'reset', 'connect-failure'], false)).toEqual(['5xx', 'reset', 'connect-failure', 'unavailable']);
  });

  it('gives proxyless clients gRPC status names only (gRFC A44 ignores the rest)', () => {
    for (const token of RETRY_ON) for (const t of grpcRetryOn([token], true)) expect(GRPC_RETRY_STATUSES).toContain(t);
    expect(grpcRetryOn(['retriable-4xx', 'retriable-status-codes', 'envoy-ratelimited'], true)).toEqual([]);
  });

  it('keeps every condition for a sidecar and adds the statuses once', () => {
    for (const token of RETRY_ON) expect(grpcRetryOn([token], false)).toContain(token);
    expect(grpcRetryOn(['unavailable', '5xx', 'gateway-error'], false)).toEqual(['5xx', 'gateway-error', 'unavailable']);
    expect(grpcRetryOn(['deadline-exceeded', 'cancelled', 'resource-exhausted', 'internal'], true)).toEqual([
      'cancelled',
      'deadline-exceeded',
      'internal',
      'resource-exhausted',
    ]);
  });
});
