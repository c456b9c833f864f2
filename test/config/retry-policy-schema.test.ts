// RetryPolicy bounds and cross-field rules, each rejection naming its field.
import { describe, expect, it } from 'vitest';
import { RETRY_ON } from '../../src/api/bounds.ts';
import { expectProblem, expectValid } from './schema-test-support.ts';

const base = {
  apiVersion: 'mesh.weft.dev/v1alpha1',
  kind: 'RetryPolicy',
  metadata: { name: 'inventory', namespace: 'shop' },
  spec: {
    targetRef: { kind: 'Service', name: 'inventory' },
    attempts: 3,
    perTryTimeout: '5s',
    timeout: '15s',
    retryOn: ['5xx', 'connect-failure', 'reset'],
    backoff: { baseInterval: '25ms', maxInterval: '250ms' },
    budget: { percent: 20, minRetryConcurrency: 3 },
    retryNonIdempotent: false,
    exemptPaths: ['/healthz'],
    outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
  },
};
// Replaces top-level spec fields wholesale, so each case states exactly what it sets.
const spec = (s: Record<string, unknown>) => ({ ...base, spec: { ...base.spec, ...s } });

describe('RetryPolicy schema', () => {
  it('accepts the API sketch with durations in milliseconds', () => {
    const o = expectValid(base);
    if (o.kind !== 'RetryPolicy') return expect.fail('kind');
    expect(o.spec).toMatchObject({ perTryTimeout: 5000, timeout: 15_000, backoff: { baseInterval: 25, maxInterval: 250 } });
    expect(o.spec.outlierDetection).toEqual({ consecutive5xxErrors: 5, interval: 10_000, baseEjectionTime: 30_000, maxEjectionPercent: 50 });
  });

  it('defaults a minimal policy', () => {
    const o = expectValid({ ...base, spec: { targetRef: { kind: 'Service', name: 'inventory' } } });
    if (o.kind !== 'RetryPolicy') return expect.fail('kind');
    expect(o.spec).toEqual({
      targetRef: { kind: 'Service', name: 'inventory' },
      attempts: 2,
      retryOn: ['5xx', 'connect-failure', 'reset'],
      retriableStatusCodes: [],
      retryNonIdempotent: false,
      exemptPaths: [],
    });
  });

  it('accepts every retryOn token, status codes with retriable-status-codes, and boundaries', () => {
    expectValid(spec({ retryOn: [...RETRY_ON], retriableStatusCodes: [503, 429] }));
    expectValid(spec({ attempts: 0 }));
    expectValid(spec({ attempts: 10, perTryTimeout: '1m30s', timeout: '1h' }));
    expectValid(spec({ perTryTimeout: '15s', timeout: '15s' }));
    expectValid(spec({ backoff: { baseInterval: '1.5s' } }));
    expectValid(spec({ budget: { percent: 0 } }));
  });

  it.each([
    ['attempts above 10', spec({ attempts: 11 }), 'spec.attempts', 'between 0 and 10'],
    ['negative attempts', spec({ attempts: -1 }), 'spec.attempts', 'between 0 and 10'],
    ['target kind not Service', spec({ targetRef: { kind: 'Deployment', name: 'x' } }), 'spec.targetRef.kind', 'must be Service'],
    ['target group not core', spec({ targetRef: { group: 'apps', kind: 'Service', name: 'x' } }), 'spec.targetRef.group', 'core API group'],
    ['not a duration', spec({ timeout: '15' }), 'spec.timeout', 'not a duration'],
    ['a number for a duration', spec({ timeout: 15 }), 'spec.timeout', 'duration string'],
    ['timeout above bound', spec({ timeout: '2h' }), 'spec.timeout', 'between 1ms and 1h'],
    ['zero timeout', spec({ perTryTimeout: '0s' }), 'spec.perTryTimeout', 'between 1ms and 1h'],
    ['perTryTimeout above timeout', spec({ perTryTimeout: '20s' }), 'spec.perTryTimeout', 'less than or equal to timeout'],
    ['unknown retryOn', spec({ retryOn: ['5xx', 'timeout'] }), 'spec.retryOn[1]', 'must be one of 5xx'],
    ['duplicate retryOn', spec({ retryOn: ['5xx', '5xx'] }), 'spec.retryOn[1]', 'duplicate condition'],
    ['empty retryOn', spec({ retryOn: [] }), 'spec.retryOn', 'at least one'],
    ['codes without token', spec({ retriableStatusCodes: [503] }), 'spec.retriableStatusCodes', 'requires retryOn to include retriable-status-codes'],
    ['token without codes', spec({ retryOn: ['retriable-status-codes'] }), 'spec.retriableStatusCodes', 'at least one status code'],
    [
      'status code out of range',
      spec({ retryOn: ['retriable-status-codes'], retriableStatusCodes: [600] }),
      'spec.retriableStatusCodes[0]',
      'between 100 and 599',
    ],
    [
      'maxInterval below baseInterval',
      spec({ backoff: { baseInterval: '1s', maxInterval: '500ms' } }),
      'spec.backoff.maxInterval',
      'greater than or equal to baseInterval',
    ],
    ['backoff without base', spec({ backoff: { maxInterval: '1s' } }), 'spec.backoff.baseInterval', 'duration string'],
    ['budget above 100', spec({ budget: { percent: 101 } }), 'spec.budget.percent', 'between 0 and 100'],
    ['minRetryConcurrency zero', spec({ budget: { minRetryConcurrency: 0 } }), 'spec.budget.minRetryConcurrency', 'between 1 and 10000'],
    ['exempt path without slash', spec({ exemptPaths: ['healthz'] }), 'spec.exemptPaths[0]', 'must start with "/"'],
    ['duplicate exempt path', spec({ exemptPaths: ['/a', '/a'] }), 'spec.exemptPaths[1]', 'duplicate path'],
    ['retryNonIdempotent not boolean', spec({ retryNonIdempotent: 'yes' }), 'spec.retryNonIdempotent', 'boolean'],
    ['consecutive5xxErrors zero', spec({ outlierDetection: { consecutive5xxErrors: 0 } }), 'spec.outlierDetection.consecutive5xxErrors', 'between 1 and 1000'],
    ['outlier interval too short', spec({ outlierDetection: { interval: '10ms' } }), 'spec.outlierDetection.interval', 'between 100ms and 1h'],
    ['maxEjectionPercent above 100', spec({ outlierDetection: { maxEjectionPercent: 150 } }), 'spec.outlierDetection.maxEjectionPercent', 'between 0 and 100'],
  ])('rejects %s', (_, raw, field, reason) => {
    expectProblem(raw, field, reason);
  });
});
