// TrafficSplit bounds: what the CRD's OpenAPI + CEL rules must mirror, case by case.
import { describe, expect, it } from 'vitest';
import { TrafficSplitBounds } from '../../src/api/bounds.ts';
import { expectProblem, expectValid, withPatch } from './schema-test-support.ts';

const base = {
  apiVersion: 'mesh.weft.dev/v1alpha1',
  kind: 'TrafficSplit',
  metadata: { name: 'checkout-canary', namespace: 'shop', generation: 3 },
  spec: {
    service: 'checkout',
    backends: [
      { service: 'checkout-v1', weight: 90 },
      { service: 'checkout-v2', weight: 10 },
    ],
    matches: [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'x-canary', value: 'true' }] }],
  },
};
const spec = (s: Record<string, unknown>) => withPatch(base, { spec: s });
const backends = (n: number) => Array.from({ length: n }, (_, i) => ({ service: `b${i}`, weight: 1 }));

describe('TrafficSplit schema', () => {
  it('accepts the API sketch and fills defaults', () => {
    const o = expectValid(base);
    if (o.kind !== 'TrafficSplit') return expect.fail('kind');
    expect(o.spec.matches[0]?.headers[0]?.type).toBe('Exact');
    expect(o.metadata.generation).toBe(3);
    const bare = expectValid(spec({ matches: [{ path: {} }] }));
    if (bare.kind === 'TrafficSplit') expect(bare.spec.matches[0]?.path).toEqual({ type: 'PathPrefix', value: '/' });
  });

  it('accepts the boundary values', () => {
    expectValid(spec({ backends: backends(TrafficSplitBounds.backendsMax) }));
    expectValid(
      spec({
        backends: [
          { service: 'a', weight: 10_000 },
          { service: 'b', weight: 0 },
        ],
      }),
    );
    expectValid(spec({ matches: Array.from({ length: 8 }, () => ({ path: { type: 'Exact', value: '/x' } })) }));
    expectValid(spec({ matches: [{ path: { type: 'RegularExpression', value: '^/v[0-9]+' } }] }));
  });

  it.each([
    ['no backends', spec({ backends: [] }), 'spec.backends', 'at least 1 backend'],
    ['too many backends', spec({ backends: backends(65) }), 'spec.backends', 'at most 64'],
    ['all weights zero', spec({ backends: [{ service: 'a', weight: 0 }] }), 'spec.backends', 'weight greater than 0'],
    ['negative weight', spec({ backends: [{ service: 'a', weight: -1 }] }), 'spec.backends[0].weight', 'between 0 and 10000'],
    ['weight too large', spec({ backends: [{ service: 'a', weight: 10_001 }] }), 'spec.backends[0].weight', 'between 0 and 10000'],
    ['fractional weight', spec({ backends: [{ service: 'a', weight: 1.5 }] }), 'spec.backends[0].weight', 'integer'],
    [
      'duplicate backend',
      spec({
        backends: [
          { service: 'a', weight: 1 },
          { service: 'a', weight: 2 },
        ],
      }),
      'spec.backends[1].service',
      'duplicate backend',
    ],
    ['backend not DNS-1035', spec({ backends: [{ service: 'A_b', weight: 1 }] }), 'spec.backends[0].service', 'DNS-1035'],
    ['missing root service', spec({ service: undefined }), 'spec.service', 'must be a string'],
    ['name not DNS-1123', withPatch(base, { metadata: { name: 'Canary!' } }), 'metadata.name', 'DNS-1123 subdomain'],
    ['too many matches', spec({ matches: Array.from({ length: 9 }, () => ({})) }), 'spec.matches', 'at most 8'],
    ['bad path type', spec({ matches: [{ path: { type: 'Prefix', value: '/' } }] }), 'spec.matches[0].path.type', 'Exact, PathPrefix, RegularExpression'],
    ['relative path', spec({ matches: [{ path: { type: 'Exact', value: 'api' } }] }), 'spec.matches[0].path.value', 'must start with "/"'],
    [
      'bad header type',
      spec({ matches: [{ headers: [{ name: 'x', type: 'Prefix', value: 'v' }] }] }),
      'spec.matches[0].headers[0].type',
      'Exact, RegularExpression',
    ],
    ['bad header name', spec({ matches: [{ headers: [{ name: 'x canary', value: 'v' }] }] }), 'spec.matches[0].headers[0].name', 'HTTP header name'],
    ['empty header value', spec({ matches: [{ headers: [{ name: 'x', value: '' }] }] }), 'spec.matches[0].headers[0].value', 'must not be empty'],
    [
      'duplicate header',
      spec({
        matches: [
          {
            headers: [
              { name: 'X-A', value: '1' },
              { name: 'x-a', value: '2' },
            ],
          },
        ],
      }),
      'spec.matches[0].headers[1].name',
      'duplicate header',
    ],
    ['spec not an object', withPatch(base, { spec: 'x' }), 'spec', 'must be an object'],
  ])('rejects %s', (_, raw, field, reason) => {
    expectProblem(raw, field, reason);
  });
});
