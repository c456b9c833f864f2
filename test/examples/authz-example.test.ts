// examples/authz parses as Weft reads it (every policy accepted), and on checkout's sidecar
// it means what its README says: the client may GET, the intruder may not, /admin is denied.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseObject, type ConfigObject } from '../../src/api/objects.ts';
import { workloadAuthz } from '../../src/model/authz.ts';
import { buildModel } from '../../src/model/build.ts';

const read = (f: string) => readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8');
const objects = (text: string, ns = 'shop'): ConfigObject[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as { kind: string; metadata: Record<string, unknown> })
    .filter((d) => d.kind === 'AuthorizationPolicy' || d.kind === 'Service')
    .map((d) => {
      const r = parseObject({ ...d, metadata: { namespace: ns, ...d.metadata } });
      if (!r.ok) throw new Error(JSON.stringify(r.problems));
      return r.object;
    });

describe('examples/authz', () => {
  const model = buildModel([...objects(read('shop/services.yaml')), ...objects(read('authz/authorization.yaml'))]);

  it('every policy is accepted', () => {
    const statuses = model.statuses.filter((s) => s.kind === 'AuthorizationPolicy');
    expect(statuses.map((s) => [s.key, s.conditions.every((c) => c.status === 'True')])).toEqual([
      ['shop/checkout', true],
      ['shop/default-deny', true],
      ['shop/no-head', true],
    ]);
  });

  it("checkout's workloads enforce the deny, the client's allow and default deny; the dry run is shadow only", () => {
    const w = workloadAuthz(model, 'shop', ['checkout', 'checkout-v1']);
    expect(w?.enforced.deny.map((r) => r.name)).toEqual(['shop/checkout:deny[0]']);
    expect(w?.enforced.allow.map((r) => r.rule.from?.serviceAccounts)).toEqual([['shop/client']]);
    expect(w?.enforced.defaultDeny).toBe(true);
    expect(w?.dryRun?.deny.map((r) => r.name)).toEqual(['shop/checkout:deny[0]', 'shop/no-head:deny[0]']);
  });
});
