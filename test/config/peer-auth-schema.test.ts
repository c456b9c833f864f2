// PeerAuth: modes, port-level keys, label syntax and the selector requirement.
import { describe, expect, it } from 'vitest';
import { expectProblem, expectValid } from './schema-test-support.ts';

const pa = (spec: unknown, namespace = 'shop') => ({ apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'PeerAuth', metadata: { name: 'default', namespace }, spec });

describe('PeerAuth schema', () => {
  it('accepts the API sketch, an empty spec, and UNSET', () => {
    const o = expectValid(pa({ selector: { matchLabels: { app: 'payments' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } }));
    if (o.kind !== 'PeerAuth') return expect.fail('kind');
    expect(o.spec.portLevelMtls).toEqual({ '8080': { mode: 'PERMISSIVE' } });
    expectValid(pa({}));
    expectValid({ ...pa({}), spec: undefined });
    const unset = expectValid(pa({ mtls: {} }));
    if (unset.kind === 'PeerAuth') expect(unset.spec.mtls?.mode).toBe('UNSET');
    expectValid(pa({ selector: { matchLabels: { app: 'a' } }, portLevelMtls: { '1': { mode: 'DISABLE' }, '65535': { mode: 'UNSET' } } }));
    expectValid(pa({ selector: { matchLabels: { 'app.kubernetes.io/name': 'Web_1.x-y', tier: '', ['n'.repeat(63)]: 'v'.repeat(63) } } }));
  });

  it.each([
    ['unknown mode', pa({ mtls: { mode: 'strict' } }), 'spec.mtls.mode', 'STRICT, PERMISSIVE, DISABLE, UNSET'],
    ['port level without selector', pa({ portLevelMtls: { '8080': { mode: 'STRICT' } } }), 'spec.portLevelMtls', 'requires a selector'],
    ['port 0', pa({ selector: { matchLabels: { a: 'b' } }, portLevelMtls: { '0': { mode: 'STRICT' } } }), 'spec.portLevelMtls["0"]', 'between 1 and 65535'],
    [
      'port too large',
      pa({ selector: { matchLabels: { a: 'b' } }, portLevelMtls: { '65536': { mode: 'STRICT' } } }),
      'spec.portLevelMtls["65536"]',
      'between 1 and 65535',
    ],
    ['named port key', pa({ selector: { matchLabels: { a: 'b' } }, portLevelMtls: { http: { mode: 'STRICT' } } }), 'spec.portLevelMtls.http', 'port number'],
    ['bad port mode', pa({ selector: { matchLabels: { a: 'b' } }, portLevelMtls: { '80': { mode: 'ON' } } }), 'spec.portLevelMtls["80"].mode', 'STRICT'],
    ['empty selector', pa({ selector: { matchLabels: {} } }), 'spec.selector.matchLabels', 'between 1 and 64 labels'],
    ['selector without matchLabels', pa({ selector: {} }), 'spec.selector.matchLabels', 'map of label key to label value'],
    [
      'port key with a leading zero',
      pa({ selector: { matchLabels: { a: 'b' } }, portLevelMtls: { '080': { mode: 'STRICT' } } }),
      'spec.portLevelMtls["080"]',
      'no leading zero',
    ],
    [
      'label key not label syntax',
      pa({ selector: { matchLabels: { 'not a label!': 'x' } } }),
      'spec.selector.matchLabels["not a label!"]',
      'must be a label key',
    ],
    [
      'label key name too long',
      pa({ selector: { matchLabels: { [`example.com/${'n'.repeat(64)}`]: 'x' } } }),
      `spec.selector.matchLabels["example.com/${'n'.repeat(64)}"]`,
      'at most 63',
    ],
    [
      'label key prefix too long',
      pa({ selector: { matchLabels: { [`${'a'.repeat(63)}.`.repeat(4) + 'b/app']: 'x' } } }),
      `spec.selector.matchLabels["${`${'a'.repeat(63)}.`.repeat(4)}b/app"]`,
      'at most 253',
    ],
    [
      'label key prefix in upper case',
      pa({ selector: { matchLabels: { 'Example.com/app': 'x' } } }),
      'spec.selector.matchLabels["Example.com/app"]',
      'DNS subdomain',
    ],
    ['label value not label syntax', pa({ selector: { matchLabels: { app: 'no way?' } } }), 'spec.selector.matchLabels.app', 'must be a label value'],
    ['label value too long', pa({ selector: { matchLabels: { app: 'v'.repeat(64) } } }), 'spec.selector.matchLabels.app', 'at most 63'],
  ])('rejects %s', (_, raw, field, reason) => {
    expectProblem(raw, field, reason);
  });
});
