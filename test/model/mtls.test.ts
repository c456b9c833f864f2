// effectiveMtls precedence: port-level > workload selector > namespace > mesh > PERMISSIVE,
// with UNSET deferring and conflicts among same-scope policies resolved oldest-first.
import { describe, expect, it } from 'vitest';
import { buildModel, effectiveMtls } from '../../src/model/build.ts';
import { peerAuth } from './fixtures.ts';

const payments = { namespace: 'shop', labels: { app: 'payments', tier: 'backend' } };
const other = { namespace: 'shop', labels: { app: 'web' } };

describe('effectiveMtls', () => {
  it('defaults to PERMISSIVE with no policy', () => {
    expect(effectiveMtls(buildModel([]), payments)).toBe('PERMISSIVE');
  });

  it('applies the most specific level that sets a mode', () => {
    const m = buildModel([
      peerAuth('mesh', { mtls: { mode: 'STRICT' } }, { ns: 'weft-system' }),
      peerAuth('ns', { mtls: { mode: 'DISABLE' } }),
      peerAuth('pay', {
        selector: { matchLabels: { app: 'payments' } },
        mtls: { mode: 'PERMISSIVE' },
        portLevelMtls: { '8080': { mode: 'STRICT' }, '9090': { mode: 'UNSET' } },
      }),
    ]);
    expect(m.peerAuths.find((p) => p.policy === 'weft-system/mesh')?.meshWide).toBe(true);
    expect(effectiveMtls(m, payments, 8080)).toBe('STRICT'); // port-level
    expect(effectiveMtls(m, payments, 9090)).toBe('PERMISSIVE'); // UNSET port defers to the workload policy
    expect(effectiveMtls(m, payments)).toBe('PERMISSIVE'); // workload selector
    expect(effectiveMtls(m, other, 8080)).toBe('DISABLE'); // namespace-wide
    expect(effectiveMtls(m, { namespace: 'blog', labels: {} })).toBe('STRICT'); // mesh-wide
  });

  it('lets UNSET at every level fall through to the next', () => {
    const m = buildModel([
      peerAuth('mesh', { mtls: { mode: 'STRICT' } }, { ns: 'weft-system' }),
      peerAuth('ns', { mtls: { mode: 'UNSET' } }),
      peerAuth('pay', { selector: { matchLabels: { app: 'payments' } } }),
    ]);
    expect(effectiveMtls(m, payments, 8080)).toBe('STRICT');
  });

  it('honours a custom control-plane namespace', () => {
    const objects = [peerAuth('mesh', { mtls: { mode: 'STRICT' } }, { ns: 'mesh-cp' })];
    expect(effectiveMtls(buildModel(objects), payments)).toBe('PERMISSIVE');
    expect(effectiveMtls(buildModel(objects, { controlPlaneNamespace: 'mesh-cp' }), payments)).toBe('STRICT');
  });

  it('resolves same-scope conflicts oldest-first and overlapping selectors by precedence', () => {
    const m = buildModel([
      peerAuth('b-ns', { mtls: { mode: 'STRICT' } }, { created: '2024-01-01T00:00:00Z' }),
      peerAuth('a-ns', { mtls: { mode: 'DISABLE' } }, { created: '2024-02-01T00:00:00Z' }),
      peerAuth('z-wide', { selector: { matchLabels: { tier: 'backend' } }, mtls: { mode: 'DISABLE' } }, { created: '2023-01-01T00:00:00Z' }),
      peerAuth('a-narrow', { selector: { matchLabels: { app: 'payments' } }, mtls: { mode: 'STRICT' } }, { created: '2024-01-01T00:00:00Z' }),
    ]);
    expect(effectiveMtls(m, other)).toBe('STRICT');
    const loser = m.statuses.find((s) => s.key === 'shop/a-ns');
    expect(loser?.conditions[0]).toMatchObject({ type: 'Accepted', status: 'False', reason: 'Conflicted' });
    expect(m.peerAuths.map((p) => p.policy)).toEqual(['shop/z-wide', 'shop/a-narrow', 'shop/b-ns']);
    expect(effectiveMtls(m, payments)).toBe('DISABLE'); // both select it; the older policy wins
  });
});
