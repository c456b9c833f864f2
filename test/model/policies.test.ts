// TrafficSplit and RetryPolicy resolution: references, conflicts and their statuses.
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/model/build.ts';
import type { MeshModel, PolicyStatus } from '../../src/model/types.ts';
import { peerAuth, retry, service, split } from './fixtures.ts';

const status = (m: MeshModel, kind: PolicyStatus['kind'], key: string) => m.statuses.find((s) => s.kind === kind && s.key === key);
const cond = (m: MeshModel, kind: PolicyStatus['kind'], key: string, type: string) => status(m, kind, key)?.conditions.find((c) => c.type === type);

const shop = [service('checkout'), service('checkout-v1'), service('checkout-v2')];

describe('TrafficSplit resolution', () => {
  it('attaches a resolved split with only positive-weight backends', () => {
    const m = buildModel([
      ...shop,
      split(
        'canary',
        'checkout',
        { 'checkout-v1': 90, 'checkout-v2': 10, checkout: 0 },
        { generation: 4, matches: [{ headers: [{ name: 'x-canary', value: 'true' }] }] },
      ),
    ]);
    expect(m.services.get('shop/checkout')?.split).toEqual({
      policy: 'shop/canary',
      backends: [
        { service: 'checkout-v1', weight: 90 },
        { service: 'checkout-v2', weight: 10 },
      ],
      matches: [{ headers: [{ name: 'x-canary', type: 'Exact', value: 'true' }] }],
    });
    expect(status(m, 'TrafficSplit', 'shop/canary')).toEqual({
      kind: 'TrafficSplit',
      key: 'shop/canary',
      generation: 4,
      conditions: [
        { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'TrafficSplit applies to Service shop/checkout' },
        { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'All 3 backends of shop/checkout exist' },
      ],
      summary: 'checkout-v1 90%, checkout-v2 10%, checkout 0%; 1 match',
    });
  });

  it('does not apply a split whose backend is missing (or in another namespace); the root keeps serving', () => {
    const m = buildModel([...shop, service('checkout-v3', undefined, { ns: 'other' }), split('canary', 'checkout', { 'checkout-v1': 50, 'checkout-v3': 50 })]);
    expect(m.services.get('shop/checkout')?.split).toBeUndefined();
    expect(m.services.get('shop/checkout')?.ports[0]?.port).toBe(8080);
    const refs = cond(m, 'TrafficSplit', 'shop/canary', 'ResolvedRefs');
    expect(refs).toMatchObject({ status: 'False', reason: 'BackendNotFound' });
    expect(refs?.message).toContain('shop/checkout-v3 not found');
    expect(refs?.message).toContain('not applied');
  });

  it('does not accept a split whose root service is missing: there is nothing to split', () => {
    const m = buildModel([...shop, split('ghost', 'nope', { 'checkout-v1': 1 })]);
    expect(status(m, 'TrafficSplit', 'shop/ghost')?.conditions).toEqual([
      {
        type: 'Accepted',
        status: 'False',
        reason: 'ServiceNotFound',
        message: 'Service shop/nope not found: there is nothing to split; the split is applied once the Service exists',
      },
      { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'All 1 backends of shop/nope exist' },
    ]);
    expect([...m.services.values()].some((s) => s.split)).toBe(false);
  });

  it.each([
    [{ 'checkout-v1': 90, 'checkout-v2': 20 }, '; weights 90/20 sum to 110, not 100, and are normalised to 82/18 percent (checkout-v1/checkout-v2)'],
    [
      { 'checkout-v1': 1, 'checkout-v2': 1, checkout: 1 },
      '; weights 1/1/1 sum to 3, not 100, and are normalised to 34/33/33 percent (checkout-v1/checkout-v2/checkout)',
    ],
    [{ 'checkout-v1': 5, checkout: 0 }, '; weights 5/0 sum to 5, not 100, and are normalised to 100/0 percent (checkout-v1/checkout)'],
    [{ 'checkout-v1': 90, 'checkout-v2': 10 }, ''],
  ])('says how weights %o that do not sum to 100 are normalised', (weights, note) => {
    const m = buildModel([...shop, split('canary', 'checkout', weights)]);
    expect(cond(m, 'TrafficSplit', 'shop/canary', 'Accepted')).toEqual({
      type: 'Accepted',
      status: 'True',
      reason: 'Accepted',
      message: `TrafficSplit applies to Service shop/checkout${note}`,
    });
    // What Envoy gets stays the weights as written: the message only explains them.
    expect(m.services.get('shop/checkout')?.split?.backends.map((b) => b.weight)).toEqual(Object.values(weights).filter((w) => w > 0));
  });

  it('lets the oldest split win a conflict, then the first by name', () => {
    const m = buildModel([
      ...shop,
      split('b-old', 'checkout', { 'checkout-v1': 1 }, { created: '2024-01-01T00:00:00Z' }),
      split('a-new', 'checkout', { 'checkout-v2': 1 }, { created: '2024-06-01T00:00:00Z' }),
    ]);
    expect(m.services.get('shop/checkout')?.split?.policy).toBe('shop/b-old');
    expect(cond(m, 'TrafficSplit', 'shop/a-new', 'Accepted')).toMatchObject({ status: 'False', reason: 'Conflicted' });
    expect(cond(m, 'TrafficSplit', 'shop/a-new', 'Accepted')?.message).toContain('TrafficSplit shop/b-old');

    const byName = buildModel([...shop, split('zz', 'checkout', { 'checkout-v1': 1 }), split('aa', 'checkout', { 'checkout-v2': 1 })]);
    expect(byName.services.get('shop/checkout')?.split?.policy).toBe('shop/aa');
    expect(cond(byName, 'TrafficSplit', 'shop/zz', 'Accepted')?.reason).toBe('Conflicted');
  });

  it('rejects regular expressions Envoy (RE2) cannot run', () => {
    const m = buildModel([
      ...shop,
      split('re', 'checkout', { 'checkout-v1': 1 }, { matches: [{ path: { type: 'RegularExpression', value: '^/(?!admin)' } }] }),
    ]);
    expect(m.services.get('shop/checkout')?.split).toBeUndefined();
    const acc = cond(m, 'TrafficSplit', 'shop/re', 'Accepted');
    expect(acc).toMatchObject({ status: 'False', reason: 'UnsupportedValue' });
    expect(acc?.message).toContain('spec.matches[0].path.value');
  });
});

describe('RetryPolicy resolution', () => {
  it('maps retryOn to Envoy tokens in a stable order and converts durations', () => {
    const m = buildModel([
      ...shop,
      retry('checkout', 'checkout', {
        attempts: 3,
        perTryTimeout: '1s',
        timeout: '5s',
        retryOn: ['unavailable', 'retriable-status-codes', '5xx'],
        retriableStatusCodes: [503, 429],
        backoff: { baseInterval: '25ms' },
        budget: {},
        exemptPaths: ['/z', '/healthz'],
        outlierDetection: { consecutive5xxErrors: 7 },
      }),
    ]);
    expect(m.services.get('shop/checkout')?.retry).toEqual({
      policy: 'shop/checkout',
      attempts: 3,
      perTryTimeoutMs: 1000,
      timeoutMs: 5000,
      retryOn: ['5xx', 'retriable-status-codes', 'unavailable'],
      retriableStatusCodes: [429, 503],
      backoff: { baseIntervalMs: 25, maxIntervalMs: 250 },
      budget: { percent: 20, minRetryConcurrency: 3 },
      retryNonIdempotent: false,
      exemptPaths: ['/healthz', '/z'],
      outlierDetection: { consecutive5xxErrors: 7, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10 },
    });
    expect(cond(m, 'RetryPolicy', 'shop/checkout', 'Accepted')?.status).toBe('True');
  });

  it('reports a missing target and a conflicting second policy', () => {
    const m = buildModel([...shop, retry('a', 'checkout'), retry('b', 'checkout'), retry('c', 'missing')]);
    expect(m.services.get('shop/checkout')?.retry?.policy).toBe('shop/a');
    expect(cond(m, 'RetryPolicy', 'shop/b', 'Accepted')).toMatchObject({ status: 'False', reason: 'Conflicted' });
    expect(cond(m, 'RetryPolicy', 'shop/c', 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'TargetNotFound' });
    expect(cond(m, 'RetryPolicy', 'shop/c', 'Accepted')).toEqual({
      type: 'Accepted',
      status: 'False',
      reason: 'TargetNotFound',
      message: 'Service shop/missing not found; the policy is applied once the Service exists',
    });
    expect(m.statuses.map((s) => `${s.kind} ${s.key}`)).toEqual(['RetryPolicy shop/a', 'RetryPolicy shop/b', 'RetryPolicy shop/c']);
  });
});

describe('status.summary (the readable printer column)', () => {
  it.each([
    [split('s', 'checkout', { 'checkout-v1': 90, 'checkout-v2': 20 }), 'checkout-v1 82%, checkout-v2 18%'],
    [split('m', 'checkout', { 'checkout-v1': 1 }, { matches: [{ path: { value: '/a' } }, { path: { value: '/b' } }] }), 'checkout-v1 100%; 2 matches'],
    [retry('r', 'checkout'), '5xx, connect-failure, reset'],
    [retry('c', 'checkout', { retryOn: ['retriable-status-codes'], retriableStatusCodes: [503, 429] }), 'retriable-status-codes (503, 429)'],
    [
      peerAuth('p', { selector: { matchLabels: { app: 'web', tier: 'f' } }, portLevelMtls: { '8080': { mode: 'STRICT' } } }),
      'app=web,tier=f; port 8080 STRICT',
    ],
    [peerAuth('n', { mtls: { mode: 'STRICT' } }), 'all workloads'],
  ])('%#: %s', (object, summary) => {
    const m = buildModel([...shop, object]);
    expect(m.statuses[0]?.summary).toBe(summary);
  });
});
