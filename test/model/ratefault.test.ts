// RateLimitPolicy and FaultPolicy resolution: rule order, one policy per target, missing
// targets and unsupported regular expressions, and their statuses and summaries.
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/model/build.ts';
import type { MeshModel, PolicyStatus } from '../../src/model/types.ts';
import { must, service } from './fixtures.ts';

const status = (m: MeshModel, kind: PolicyStatus['kind'], key: string) => m.statuses.find((s) => s.kind === kind && s.key === key);
const accepted = (m: MeshModel, kind: PolicyStatus['kind'], key: string) => status(m, kind, key)?.conditions.find((c) => c.type === 'Accepted');

const rl = (name: string, spec: Record<string, unknown>, created?: string) =>
  must({
    apiVersion: 'mesh.weft.dev/v1alpha1',
    kind: 'RateLimitPolicy',
    metadata: { name, namespace: 'shop', ...(created ? { creationTimestamp: created } : {}) },
    spec: { targetRef: { kind: 'Service', name: 'inventory' }, ...spec },
  });
const fault = (name: string, spec: Record<string, unknown>, target = 'inventory') =>
  must({
    apiVersion: 'mesh.weft.dev/v1alpha1',
    kind: 'FaultPolicy',
    metadata: { name, namespace: 'shop' },
    spec: { targetRef: { kind: 'Service', name: target }, ...spec },
  });

describe('RateLimitPolicy resolution', () => {
  it('orders rules most specific first, whatever the written order', () => {
    const m = buildModel([
      service('inventory'),
      rl('limits', {
        rules: [
          { match: { pathPrefix: '/' }, limit: { requests: 1 } },
          { match: { pathPrefix: '/api' }, limit: { requests: 2 } },
          { match: { pathPrefix: '/api', method: 'GET' }, limit: { requests: 3 } },
          { match: { pathPrefix: '/api/orders' }, limit: { requests: 4, interval: '2s', burst: 1 }, perCaller: true },
        ],
      }),
    ]);
    const got = m.services.get('shop/inventory')?.rateLimit;
    expect(got?.rules.map((r) => `${r.method ?? '*'} ${r.pathPrefix}`)).toEqual(['* /api/orders', 'GET /api', '* /api', '* /']);
    expect(got?.rules[0]).toEqual({ pathPrefix: '/api/orders', limit: { requests: 4, intervalMs: 2000, burst: 1 }, perCaller: true });
    expect(got?.limit).toBeUndefined();
    expect(status(m, 'RateLimitPolicy', 'shop/limits')?.summary).toBe('/ 1/1s, /api 2/1s, GET /api 3/1s, /api/orders 4/2s per caller');
  });

  it('one policy per Service: the oldest wins, the other is Conflicted', () => {
    const m = buildModel([
      service('inventory'),
      rl('new', { limit: { requests: 1 } }, '2026-01-02T00:00:00Z'),
      rl('old', { limit: { requests: 2, interval: '500ms' } }, '2026-01-01T00:00:00Z'),
    ]);
    expect(m.services.get('shop/inventory')?.rateLimit?.limit).toEqual({ requests: 2, intervalMs: 500, burst: 2 });
    expect(accepted(m, 'RateLimitPolicy', 'shop/old')?.status).toBe('True');
    expect(accepted(m, 'RateLimitPolicy', 'shop/new')).toMatchObject({ status: 'False', reason: 'Conflicted' });
  });

  it('a missing target: not applied, TargetNotFound in both conditions', () => {
    const m = buildModel([rl('limits', { limit: { requests: 1 } })]);
    expect(status(m, 'RateLimitPolicy', 'shop/limits')?.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      'Accepted=False/TargetNotFound',
      'ResolvedRefs=False/TargetNotFound',
    ]);
  });
});

describe('FaultPolicy resolution', () => {
  it('attaches delay, abort and headers to the target', () => {
    const m = buildModel([
      service('inventory'),
      fault('chaos', { delay: { fixedDelay: '1.5s', percentage: 12.5 }, abort: { grpcStatus: 14 }, headers: [{ name: 'x-chaos', value: 'inject' }] }),
    ]);
    expect(m.services.get('shop/inventory')?.fault).toEqual({
      policy: 'shop/chaos',
      delay: { fixedDelayMs: 1500, percent: 12.5 },
      abort: { grpcStatus: 14, percent: 100 },
      headers: [{ name: 'x-chaos', type: 'Exact', value: 'inject' }],
    });
    expect(status(m, 'FaultPolicy', 'shop/chaos')?.summary).toBe('delay 1500ms 12.5%, abort grpc 14 100%; when x-chaos match');
  });

  it('a regular expression RE2 cannot run keeps the policy out (UnsupportedValue, final)', () => {
    const m = buildModel([
      service('inventory'),
      fault('chaos', { abort: { httpStatus: 503 }, headers: [{ name: 'x-a', type: 'RegularExpression', value: '(?=a)b' }] }),
    ]);
    expect(m.services.get('shop/inventory')?.fault).toBeUndefined();
    expect(accepted(m, 'FaultPolicy', 'shop/chaos')).toMatchObject({ status: 'False', reason: 'UnsupportedValue' });
    expect(accepted(m, 'FaultPolicy', 'shop/chaos')?.message).toContain('spec.headers[0].value');
  });
});
