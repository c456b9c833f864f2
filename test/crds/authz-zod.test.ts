// The zod half of the AuthorizationPolicy parity rows, without an API server (the CRD half
// runs in e2e/crds/crd-parity.test.ts): every row's verdict and the field it names.
import { describe, expect, it } from 'vitest';
import { parseObject } from '../../src/api/objects.ts';
import { authzCases } from './authz-cases.ts';

describe('AuthorizationPolicy rows: zod', () => {
  it.each(authzCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = parseObject(c.doc);
    if (!c.rejects) {
      expect(r.ok ? [] : r.problems).toEqual([]);
      return;
    }
    expect(r.ok).toBe(false);
    const field = c.rejects.zodField ?? c.rejects.field;
    const fields = r.ok ? [] : r.problems.map((p) => p.field);
    expect(
      fields.some((f) => f.startsWith(field)),
      JSON.stringify(r),
    ).toBe(true);
  });
});
