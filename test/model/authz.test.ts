// AuthorizationPolicy resolution: scope (Service, namespace, mesh), statuses, the problems
// CRD and zod cannot see (a rule both allowed and denied, an RE2-incompatible regex), and
// the effective rules of a workload (enforced and dry run).
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/model/build.ts';
import { workloadAuthz } from '../../src/model/authz.ts';
import type { MeshModel } from '../../src/model/types.ts';
import { must, service } from './fixtures.ts';

const authz = (name: string, spec: Record<string, unknown>, ns = 'shop') =>
  must({ apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name, namespace: ns, generation: 2 }, spec });
const statusOf = (m: MeshModel, key: string) => m.statuses.find((s) => s.kind === 'AuthorizationPolicy' && s.key === key);
const accepted = (m: MeshModel, key: string) => statusOf(m, key)?.conditions.find((c) => c.type === 'Accepted');

describe('AuthorizationPolicy resolution', () => {
  it('accepts a targeted policy, normalizes its rules and writes a summary', () => {
    const m = buildModel([
      service('pay'),
      authz('pay', {
        targetRef: { kind: 'Service', name: 'pay' },
        allow: [{ from: { serviceAccounts: ['shop/b', 'shop/a'] }, to: { methods: ['POST', 'GET'], headers: [{ name: 'X-Tenant', value: 'a' }] } }],
        deny: [{ from: { namespaces: ['sandbox'] } }],
      }),
    ]);
    expect(m.authorizations).toEqual([
      {
        policy: 'shop/pay',
        namespace: 'shop',
        meshWide: false,
        service: 'pay',
        dryRun: false,
        defaultDeny: true,
        allow: [
          {
            from: { serviceAccounts: ['shop/a', 'shop/b'], namespaces: [], mesh: false, unauthenticated: false },
            to: { paths: [], methods: ['GET', 'POST'], headers: [{ name: 'x-tenant', type: 'Exact', value: 'a' }], ports: [] },
          },
        ],
        deny: [{ from: { serviceAccounts: [], namespaces: ['sandbox'], mesh: false, unauthenticated: false } }],
      },
    ]);
    expect(statusOf(m, 'shop/pay')).toMatchObject({
      generation: 2,
      summary: '1 allow rule, 1 deny rule; default deny',
      conditions: [
        { type: 'Accepted', status: 'True', message: 'AuthorizationPolicy applies to the workloads behind Service shop/pay' },
        { type: 'ResolvedRefs', status: 'True' },
      ],
    });
  });

  it('a policy without targetRef is namespace-wide, mesh-wide in the control-plane namespace', () => {
    const m = buildModel([authz('ns', { defaultAction: 'Deny' }), authz('mesh', { dryRun: true, deny: [{}] }, 'weft-system')]);
    expect(m.authorizations.map((p) => [p.policy, p.meshWide, p.defaultDeny, p.dryRun])).toEqual([
      ['shop/ns', false, true, false],
      ['weft-system/mesh', true, false, true],
    ]);
    expect(accepted(m, 'weft-system/mesh')?.message).toBe('AuthorizationPolicy is recorded (dry run) for every workload in the mesh');
    expect(statusOf(m, 'weft-system/mesh')?.summary).toBe('0 allow rules, 1 deny rule; default allow; dry run');
  });

  it('a missing target is not accepted (curable) and not applied', () => {
    const m = buildModel([authz('pay', { targetRef: { kind: 'Service', name: 'pay' }, deny: [{}] })]);
    expect(m.authorizations).toEqual([]);
    expect(accepted(m, 'shop/pay')).toMatchObject({ status: 'False', reason: 'TargetNotFound' });
  });

  it('reports a rule both allowed and denied, naming the field (the webhook denies it)', () => {
    const rule = { from: { serviceAccounts: ['shop/a'] }, to: { paths: ['/x'] } };
    const m = buildModel([authz('both', { allow: [{ from: { mesh: true } }, rule], deny: [{ to: { ports: [1] } }, rule] })]);
    expect(accepted(m, 'shop/both')).toMatchObject({
      status: 'False',
      reason: 'ConflictingRules',
      message: 'AuthorizationPolicy shop/both: spec.deny[1]: the same rule as spec.allow[1] (deny would win; remove one)',
    });
    expect(m.authorizations).toEqual([]);
  });

  it('reports a header regex RE2 cannot run', () => {
    const m = buildModel([authz('re', { deny: [{ to: { headers: [{ name: 'x', type: 'RegularExpression', value: '(?=a)b' }] } }] })]);
    expect(accepted(m, 'shop/re')).toMatchObject({ status: 'False', reason: 'InvalidRegex' });
    expect(accepted(m, 'shop/re')?.message).toContain('spec.deny[0].to.headers[0].value: lookaround');
  });
});

describe('workloadAuthz', () => {
  const m = buildModel([
    service('pay'),
    service('cart'),
    authz('mesh-default', { defaultAction: 'Deny' }, 'weft-system'),
    authz('pay', { targetRef: { kind: 'Service', name: 'pay' }, allow: [{}] }),
    authz('cart', { targetRef: { kind: 'Service', name: 'cart' }, deny: [{}] }),
    authz('try', { dryRun: true, deny: [{ from: { namespaces: ['x'] } }] }),
    authz('other', { deny: [{}] }, 'other'),
  ]);

  it('gathers the mesh, namespace and target policies; dry run only in the shadow set', () => {
    const w = workloadAuthz(m, 'shop', ['pay']);
    expect(w?.enforced.allow.map((r) => r.name)).toEqual(['shop/pay:allow[0]']);
    expect(w?.enforced.deny).toEqual([]);
    expect(w?.enforced.defaultDeny).toBe(true);
    expect(w?.dryRun?.deny.map((r) => r.name)).toEqual(['shop/try:deny[0]']);
  });

  it('a policy for another Service or namespace does not apply; no policy: undefined', () => {
    expect(workloadAuthz(m, 'shop', ['cart'])?.enforced.deny.map((r) => r.name)).toEqual(['shop/cart:deny[0]']);
    expect(workloadAuthz({ authorizations: [] }, 'shop', ['pay'])).toBeUndefined();
    expect(workloadAuthz(m, 'elsewhere', [])).toEqual({ enforced: { deny: [], allow: [], defaultDeny: true } });
  });
});
