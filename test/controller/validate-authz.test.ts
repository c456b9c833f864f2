// /validate for AuthorizationPolicy: what the CRD cannot say (a rule both allowed and
// denied, a header regex RE2 cannot run) is refused with the model's message naming the
// field; a missing target Service is admitted with a warning (it may come later).
import { describe, expect, it } from 'vitest';
import { parseObject, type ConfigObject } from '../../src/api/objects.ts';
import { crValidator } from '../../webhook/validate-crs.ts';
import type { AdmissionRequest } from '../../webhook/admission.ts';

const NS = 'shop';
const service = (name: string): ConfigObject => {
  const r = parseObject({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { ports: [{ port: 80 }] } });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.object;
};
const authz = (spec: Record<string, unknown>) => ({
  apiVersion: 'mesh.weft.dev/v1alpha1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'p', namespace: NS },
  spec,
});
const request = (object: Record<string, unknown>): AdmissionRequest => ({
  uid: 'u1',
  kind: { group: 'mesh.weft.dev', version: 'v1alpha1', kind: 'AuthorizationPolicy' },
  namespace: NS,
  name: 'p',
  operation: 'CREATE',
  object,
});

describe('crValidator: AuthorizationPolicy', () => {
  const validate = crValidator({ objectsIn: () => [service('pay')], inScope: () => true, controlPlaneNamespace: 'weft-system' });

  it('admits a valid policy', async () => {
    expect(await validate(request(authz({ targetRef: { kind: 'Service', name: 'pay' }, allow: [{ from: { mesh: true } }] })))).toEqual({ allowed: true });
  });

  it('refuses a rule both allowed and denied, naming both', async () => {
    const rule = { from: { serviceAccounts: ['shop/a'] } };
    expect(await validate(request(authz({ allow: [rule], deny: [rule] })))).toEqual({
      allowed: false,
      message: 'weft: AuthorizationPolicy shop/p: spec.deny[0]: the same rule as spec.allow[0] (deny would win; remove one)',
    });
  });

  it('refuses a header regex RE2 cannot run', async () => {
    const r = await validate(request(authz({ deny: [{ to: { headers: [{ name: 'x', type: 'RegularExpression', value: '(a)\\1' }] } }] })));
    expect(r).toMatchObject({ allowed: false, message: expect.stringContaining('spec.deny[0].to.headers[0].value: backreferences') });
  });

  it('refuses what the CRD refuses too (zod), naming the field', async () => {
    const r = await validate(request(authz({ allow: [{ from: { serviceAccounts: ['spiffe://cluster.local/ns/shop/sa/a'] } }] })));
    expect(r).toMatchObject({
      allowed: false,
      message: expect.stringContaining('spec.allow[0].from.serviceAccounts[0]: must be <namespace>/<service account>'),
    });
  });

  it('admits a policy for a Service that does not exist yet, with a warning', async () => {
    const r = await validate(request(authz({ targetRef: { kind: 'Service', name: 'later' }, deny: [{}] })));
    expect(r).toMatchObject({ allowed: true, warnings: [expect.stringContaining('Service shop/later not found')] });
  });
});
