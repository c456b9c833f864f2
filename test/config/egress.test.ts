// The weft.dev/egress syntax (src/api/egress.ts): what parses, what is refused and why, and
// the canonical form a scope resolves to (part of the proxy's group key).
import { describe, expect, it } from 'vitest';
import { egressSelects, egressText, parseEgress, resolveEgress } from '../../src/api/egress.ts';

function resolved(value: string, namespace = 'web'): readonly string[] | undefined {
  const p = parseEgress(value);
  if (!p.ok) throw new Error(p.reason);
  return resolveEgress(p.spec, namespace);
}

describe('weft.dev/egress', () => {
  it('reads namespace/service entries separated by commas or whitespace; "." is the own namespace', () => {
    expect(resolved('shop/*, payments/billing, ./*')).toEqual(['payments/billing', 'shop/*', 'web/*']);
    expect(resolved('payments/billing\n  ./cart shop/a,shop/a')).toEqual(['payments/billing', 'shop/a', 'web/cart']);
  });

  it('drops entries a wildcard covers, and "*/*" means unscoped', () => {
    expect(resolved('shop/a shop/* */a other/a other/b')).toEqual(['*/a', 'other/b', 'shop/*']);
    expect(resolved('shop/a, */*')).toBeUndefined();
  });

  it('refuses bad values with a reason naming the entry', () => {
    const reason = (v: unknown) => {
      const p = parseEgress(v);
      return p.ok ? 'ok' : p.reason;
    };
    expect(reason('billing')).toBe('"billing" is not <namespace>/<service> (use "./billing" for a service of the proxy\'s own namespace)');
    expect(reason('a/b/c')).toBe('"a/b/c" is not <namespace>/<service>');
    expect(reason('Shop/x')).toBe('"Shop/x": namespace "Shop" must be a DNS-1123 label or "*" or "."');
    expect(reason('shop/web*')).toBe('"shop/web*": service "web*" must be a DNS-1123 label or "*"');
    expect(reason(`shop/${'a'.repeat(64)}`)).toContain('is longer than 63 characters');
    expect(reason(' , ')).toContain('lists no service');
    expect(reason('x'.repeat(5000))).toBe('must be at most 4096 characters');
    expect(reason(Array.from({ length: 300 }, (_, i) => `ns/s${i}`).join(','))).toBe('lists more than 256 entries');
    expect(reason(42)).not.toBe('ok');
  });

  it('selects by namespace and name, wildcards included', () => {
    const hosts = resolved('shop/*, */billing');
    expect(egressSelects(hosts, 'shop', 'cart')).toBe(true);
    expect(egressSelects(hosts, 'payments', 'billing')).toBe(true);
    expect(egressSelects(hosts, 'payments', 'ledger')).toBe(false);
    expect(egressSelects(undefined, 'any', 'thing')).toBe(true);
    expect(egressText(hosts)).toBe('*/billing, shop/*');
    expect(egressText(undefined)).toBe('*/*');
  });
});
