// AuthorizationPolicy rows of the CRD parity table (cases.ts): zod and the CRD must accept
// and reject these alike, naming the same field.
import { HTTP_METHODS } from '../../src/api/bounds.ts';
import { bad, doc, ok, type CrdCase } from './case-builders.ts';

const authz = (spec: Record<string, unknown> = {}) => doc('AuthorizationPolicy', spec);
const allow = (rule: Record<string, unknown>) => authz({ allow: [rule] });
const from = (f: Record<string, unknown>) => allow({ from: f });
const to = (t: Record<string, unknown>) => allow({ to: t });
const many = (n: number, f: (i: number) => unknown) => Array.from({ length: n }, (_, i) => f(i));

export const authzCases: readonly CrdCase[] = [
  // ---- valid ----------------------------------------------------------------------------
  ok('AZ: empty spec (no rules: no effect)', authz()),
  ok('AZ: namespace default deny', authz({ defaultAction: 'Deny' })),
  ok(
    'AZ: docs example',
    authz({
      targetRef: { kind: 'Service', name: 'payments' },
      deny: [{ from: { namespaces: ['sandbox'] } }],
      allow: [
        { from: { serviceAccounts: ['shop/checkout'] }, to: { paths: ['/pay/*'], methods: ['POST'] } },
        { from: { unauthenticated: true }, to: { paths: ['/healthz'] } },
        { from: { mesh: true }, to: { ports: [9090] } },
      ],
    }),
  ),
  ok('AZ: an allow rule without from or to (any mesh identity, any request)', authz({ allow: [{}] })),
  ok('AZ: dry run, explicit core group', authz({ dryRun: true, targetRef: { group: '', kind: 'Service', name: 'pay' }, deny: [{}] })),
  ok('AZ: service account names are DNS subdomains', from({ serviceAccounts: ['kube-system/default', 'shop/checkout.v2'] })),
  ok('AZ: path forms (exact, prefix, suffix, any)', to({ paths: ['/a', '/a/*', '*.json', '*', '/'] })),
  ok(
    'AZ: every method, 32 ports, 16 headers',
    to({ methods: [...HTTP_METHODS], ports: many(32, (i) => 1000 + i), headers: many(16, (i) => ({ name: `x-h${i}`, value: 'v' })) }),
  ),
  ok('AZ: a regex header', to({ headers: [{ name: 'x-tenant', type: 'RegularExpression', value: '[a-z]+' }] })),
  ok('AZ: the same rule in two allow entries', authz({ allow: [{ from: { mesh: true } }, { from: { mesh: true } }] })),
  ok('AZ: defaultAction Allow with only deny rules', authz({ defaultAction: 'Allow', deny: [{ from: { namespaces: ['sandbox'] } }] })),
  ok('AZ: 32 allow and 32 deny rules', authz({ allow: many(32, (i) => ({ to: { ports: [i + 1] } })), deny: many(32, (i) => ({ to: { ports: [i + 100] } })) })),
  // ---- invalid: identities --------------------------------------------------------------
  bad('AZ: service account without a namespace', from({ serviceAccounts: ['checkout'] }), 'spec.allow[0].from.serviceAccounts[0]'),
  bad(
    'AZ: a SPIFFE ID as a service account',
    from({ serviceAccounts: ['spiffe://cluster.local/ns/shop/sa/checkout'] }),
    'spec.allow[0].from.serviceAccounts[0]',
  ),
  bad('AZ: an Istio principal as a service account', from({ serviceAccounts: ['cluster.local/ns/shop/sa/checkout'] }), 'spec.allow[0].from.serviceAccounts[0]'),
  bad('AZ: upper-case service account', from({ serviceAccounts: ['shop/Checkout'] }), 'spec.allow[0].from.serviceAccounts[0]'),
  bad('AZ: wildcard service account', from({ serviceAccounts: ['shop/*'] }), 'spec.allow[0].from.serviceAccounts[0]'),
  bad('AZ: repeated service account', from({ serviceAccounts: ['shop/a', 'shop/a'] }), 'spec.allow[0].from.serviceAccounts[1]'),
  bad('AZ: namespace not a DNS label', from({ namespaces: ['Shop'] }), 'spec.allow[0].from.namespaces[0]'),
  bad('AZ: empty namespaces list', from({ namespaces: [] }), 'spec.allow[0].from.namespaces'),
  bad('AZ: 33 namespaces', from({ namespaces: many(33, (i) => `ns${i}`) }), 'spec.allow[0].from.namespaces'),
  bad('AZ: from naming nobody', from({ mesh: false }), 'spec.allow[0].from'),
  bad('AZ: empty from', from({}), 'spec.allow[0].from'),
  bad('AZ: mesh not a boolean', from({ mesh: 'yes' }), 'spec.allow[0].from.mesh'),
  // ---- invalid: requests ----------------------------------------------------------------
  bad('AZ: empty to', to({}), 'spec.allow[0].to'),
  bad('AZ: path without a leading / or *', to({ paths: ['api'] }), 'spec.allow[0].to.paths[0]'),
  bad('AZ: a * in the middle of a path', to({ paths: ['/a/*/b'] }), 'spec.allow[0].to.paths[0]'),
  bad('AZ: two * in a path', to({ paths: ['*/a/*'] }), 'spec.allow[0].to.paths[0]'),
  bad('AZ: lower-case method', to({ methods: ['get'] }), 'spec.allow[0].to.methods[0]'),
  bad('AZ: repeated method', to({ methods: ['GET', 'GET'] }), 'spec.allow[0].to.methods[1]'),
  bad('AZ: port 0', to({ ports: [0] }), 'spec.allow[0].to.ports[0]'),
  bad('AZ: port 65536', to({ ports: [65536] }), 'spec.allow[0].to.ports[0]'),
  bad('AZ: header name with a space', to({ headers: [{ name: 'x tenant', value: 'a' }] }), 'spec.allow[0].to.headers[0].name'),
  bad('AZ: header without a value', to({ headers: [{ name: 'x-tenant' }] }), 'spec.allow[0].to.headers[0].value'),
  bad('AZ: unknown header match type', to({ headers: [{ name: 'x-tenant', type: 'Prefix', value: 'a' }] }), 'spec.allow[0].to.headers[0].type'),
  // ---- invalid: the policy --------------------------------------------------------------
  bad('AZ: no spec', doc('AuthorizationPolicy', undefined), 'spec'),
  bad('AZ: unknown defaultAction', authz({ defaultAction: 'DENY' }), 'spec.defaultAction'),
  bad('AZ: defaultAction Allow beside allow rules', authz({ defaultAction: 'Allow', allow: [{ from: { mesh: true } }] }), 'spec.defaultAction'),
  ok(
    'AZ: the same rule allowed and denied (the model reports it: Accepted=False)',
    authz({ allow: [{ from: { mesh: true } }], deny: [{ from: { mesh: true } }] }),
  ),
  bad('AZ: target kind Deployment', authz({ targetRef: { kind: 'Deployment', name: 'pay' } }), 'spec.targetRef.kind'),
  bad('AZ: 33 allow rules', authz({ allow: many(33, () => ({})) }), 'spec.allow'),
  bad('AZ: unknown field (Istio rules)', authz({ rules: [] }), 'spec.rules'),
  bad('AZ: unknown field in from (Istio principals)', from({ principals: ['cluster.local/ns/shop/sa/a'] }), 'spec.allow[0].from.principals'),
  bad('AZ: action at the policy level (Istio)', authz({ action: 'ALLOW' }), 'spec.action'),
];
