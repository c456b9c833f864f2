// What every Weft kind reads the way the API server reads it: unknown fields are problems
// naming the field, null in a declared field is absent (and never reaches the model),
// metadata is tolerant and status is ignored. (test/crds proves the API server agrees.)
import { describe, expect, it } from 'vitest';
import { expectProblem, expectValid } from './schema-test-support.ts';

const meta = { name: 'p', namespace: 'shop' };
const weft = (kind: string, spec: unknown, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'mesh.weft.dev/v1alpha1',
  kind,
  metadata: meta,
  spec,
  ...extra,
});
const split = (spec: Record<string, unknown>) => weft('TrafficSplit', { service: 'web', backends: [{ service: 'web-v1', weight: 1 }], ...spec });
const retry = (spec: Record<string, unknown>) => weft('RetryPolicy', { targetRef: { kind: 'Service', name: 'web' }, ...spec });

/** Every path in `v` holding null. */
function nulls(v: unknown, path = ''): string[] {
  if (v === null) return [path];
  if (typeof v !== 'object') return [];
  return Object.entries(v).flatMap(([k, x]) => nulls(x, `${path}.${k}`));
}

describe('unknown fields', () => {
  it.each([
    ['a misspelt spec field', split({ backend: [] }), 'spec.backend', 'expected one of service, backends, matches'],
    ['a lower-case retryOn', retry({ retryon: ['5xx'] }), 'spec.retryon', 'expected one of targetRef, attempts'],
    ['a field in a list item', split({ backends: [{ service: 'a', weight: 1, wieght: 2 }] }), 'spec.backends[0].wieght', 'unknown field'],
    ['a field in a nested object', retry({ backoff: { baseInterval: '1s', max: '2s' } }), 'spec.backoff.max', 'expected one of baseInterval, maxInterval'],
    [
      'a field in a map value',
      weft('PeerAuth', { selector: { matchLabels: { a: 'b' } }, portLevelMtls: { '80': { mode: 'STRICT', tls: 1 } } }),
      'spec.portLevelMtls["80"].tls',
      'expected one of mode',
    ],
    [
      'matchExpressions',
      weft('PeerAuth', { selector: { matchLabels: { a: 'b' }, matchExpressions: [] } }),
      'spec.selector.matchExpressions',
      'expected one of matchLabels',
    ],
    [
      'a misspelt spec',
      weft('PeerAuth', undefined, { sepc: { mtls: { mode: 'STRICT' } } }),
      'sepc',
      'expected one of apiVersion, kind, metadata, spec, status',
    ],
    ['an unknown field set to null', retry({ timout: null }), 'spec.timout', 'unknown field'],
  ])('%s is a problem naming it', (_, raw, field, reason) => {
    expectProblem(raw, field, reason);
  });

  it('reports every unknown field, beside the other problems', () => {
    expectProblem(split({ backend: [], servce: 'x', service: 'Web' }), 'spec.backend', 'unknown field');
    expectProblem(split({ backend: [], servce: 'x', service: 'Web' }), 'spec.servce', 'unknown field');
    expectProblem(split({ backend: [], servce: 'x', service: 'Web' }), 'spec.service', 'DNS-1035');
  });

  it('tolerates what the API server adds to metadata, and drops status from the object', () => {
    const served = {
      ...split({}),
      metadata: { ...meta, uid: 'u', generation: 3, resourceVersion: '7', managedFields: [{ manager: 'kubectl' }], finalizers: [] },
      status: { observedGeneration: 3, conditions: [{ type: 'Accepted', status: 'True' }], somethingNew: true },
    };
    const o = expectValid(served);
    expect(o).not.toHaveProperty('status');
    expect(o.metadata).toEqual({ name: 'p', namespace: 'shop', uid: 'u', generation: 3, resourceVersion: '7' });
  });
});

describe('null is absent', () => {
  it('takes the default of a defaulted field and omits an optional one', () => {
    const o = expectValid(
      retry({ attempts: null, timeout: null, retryOn: null, backoff: { baseInterval: '1s', maxInterval: null }, outlierDetection: { interval: null } }),
    );
    if (o.kind !== 'RetryPolicy') return expect.fail('kind');
    expect(o.spec).toMatchObject({
      attempts: 2,
      retryOn: ['5xx', 'connect-failure', 'reset'],
      backoff: { baseInterval: 1000 },
      outlierDetection: { interval: 10_000 },
    });
    expect(o.spec).not.toHaveProperty('timeout');
    expect(o.spec.backoff).not.toHaveProperty('maxInterval');
    expect(nulls(o)).toEqual([]);
  });

  it('in maps and in a spec with a default', () => {
    const o = expectValid(weft('PeerAuth', { selector: { matchLabels: { app: 'a', tier: null } }, mtls: { mode: null }, portLevelMtls: { '80': null } }));
    if (o.kind !== 'PeerAuth') return expect.fail('kind');
    expect(o.spec).toEqual({ selector: { matchLabels: { app: 'a' } }, mtls: { mode: 'UNSET' }, portLevelMtls: {} });
    expect(expectValid(weft('PeerAuth', null))).toMatchObject({ spec: {} });
    const t = expectValid(split({ matches: [{ path: { type: null, value: null }, headers: null }] }));
    expect(nulls(t)).toEqual([]);
  });

  it('is missing where a value is required, and still wrong inside a list', () => {
    expectProblem(weft('TrafficSplit', null), 'spec', 'must be an object');
    expectProblem(retry({ targetRef: null }), 'spec.targetRef', 'must be an object');
    expectProblem(split({ backends: [{ service: 'a', weight: null }] }), 'spec.backends[0].weight', 'must be an integer');
    expectProblem(retry({ retryOn: ['5xx', null] }), 'spec.retryOn[1]', 'must be one of');
    expectProblem(weft('PeerAuth', { selector: { matchLabels: { app: null } } }), 'spec.selector.matchLabels', 'between 1 and 64');
  });
});

describe('durations', () => {
  it('compare to the nanosecond and reach the model in whole milliseconds', () => {
    expectProblem(retry({ perTryTimeout: '1.4ms', timeout: '1.2ms' }), 'spec.perTryTimeout', 'less than or equal to timeout');
    expectProblem(retry({ backoff: { baseInterval: '1.4ms', maxInterval: '1.2ms' } }), 'spec.backoff.maxInterval', 'greater than or equal');
    const o = expectValid(retry({ perTryTimeout: '1.4ms', timeout: '3600.0000000001s', backoff: { baseInterval: '1.5ms' } }));
    if (o.kind !== 'RetryPolicy') return expect.fail('kind');
    expect(o.spec).toMatchObject({ perTryTimeout: 1, timeout: 3_600_000, backoff: { baseInterval: 2 } });
  });
});
