// mesh.weft.dev/v1alpha1 AuthorizationPolicy: who may call the workloads behind a Service
// (or every workload of a namespace, or of the mesh), matched on the caller's verified
// SPIFFE identity and, for HTTP, on the request. CEL twins of cross-field rules noted inline.
import { z } from 'zod';
import {
  AUTHZ_ACTIONS,
  AUTHZ_PATH,
  AuthorizationBounds as B,
  HEADER_MATCH_TYPES,
  HTTP_HEADER_NAME,
  HTTP_HEADER_NAME_MAX,
  HTTP_METHODS,
  SERVICE_ACCOUNT_REF,
} from './bounds.ts';
import { dns1035Label, dns1123Label, portNumber } from './common.ts';
import { check, weftObject, weftResource } from './weft-meta.ts';

/** A non-empty list of at most `max` distinct items. CEL: minItems 1, maxItems, x-kubernetes-list-type: set. */
function set<T extends z.ZodType>(item: T, max: number, what: string) {
  return z
    .array(item, { error: 'must be a list' })
    .min(1, { error: 'must not be empty (omit the field instead)' })
    .max(max, { error: `must contain at most ${max} ${what}` })
    .superRefine((list, ctx) => {
      const seen = new Set<unknown>();
      list.forEach((x, i) => {
        check(ctx, seen.has(x), [i], `duplicate ${what.replace(/e?s$/, '')} ${JSON.stringify(x)}`);
        seen.add(x);
      });
    });
}

const serviceAccount = z
  .string({ error: 'must be a string' })
  .max(B.serviceAccountMaxLength, { error: `must be at most ${B.serviceAccountMaxLength} characters` })
  .regex(SERVICE_ACCOUNT_REF, { error: 'must be <namespace>/<service account>, for example shop/checkout (not a SPIFFE ID)' });

const from = weftObject({
  serviceAccounts: set(serviceAccount, B.listMax, 'service accounts').optional(),
  namespaces: set(dns1123Label, B.listMax, 'namespaces').optional(),
  mesh: z.boolean({ error: 'must be a boolean' }).default(false),
  unauthenticated: z.boolean({ error: 'must be a boolean' }).default(false),
}).superRefine((f, ctx) => {
  // CEL: has(self.serviceAccounts) || has(self.namespaces) || self.mesh || self.unauthenticated
  check(
    ctx,
    !f.serviceAccounts && !f.namespaces && !f.mesh && !f.unauthenticated,
    [],
    'must name at least one caller: serviceAccounts, namespaces, mesh: true or unauthenticated: true (omit from for any mesh identity)',
  );
});

const path = z
  .string({ error: 'must be a string' })
  .max(B.pathMaxLength, { error: `must be at most ${B.pathMaxLength} characters` })
  .regex(AUTHZ_PATH, { error: 'must be an exact path "/a", a prefix "/a/*", a suffix "*.json" or "*" (one "*", first or last)' });

const header = weftObject({
  name: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(HTTP_HEADER_NAME_MAX, { error: `must be at most ${HTTP_HEADER_NAME_MAX} characters` })
    .regex(HTTP_HEADER_NAME, { error: 'must be an HTTP header name (RFC 7230 token)' }),
  type: z.enum(HEADER_MATCH_TYPES, { error: `must be one of ${HEADER_MATCH_TYPES.join(', ')}` }).default('Exact'),
  value: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(B.valueMaxLength, { error: `must be at most ${B.valueMaxLength} characters` }),
});

const to = weftObject({
  paths: set(path, B.listMax, 'paths').optional(),
  methods: set(z.enum(HTTP_METHODS, { error: `must be one of ${HTTP_METHODS.join(', ')}` }), HTTP_METHODS.length, 'methods').optional(),
  headers: z
    .array(header, { error: 'must be a list' })
    .min(1, { error: 'must not be empty (omit the field instead)' })
    .max(B.headersMax, { error: `must contain at most ${B.headersMax} headers` })
    .optional(),
  ports: set(portNumber, B.listMax, 'ports').optional(),
}).superRefine((t, ctx) => {
  // CEL: has(self.paths) || has(self.methods) || has(self.headers) || has(self.ports)
  check(ctx, !t.paths && !t.methods && !t.headers && !t.ports, [], 'must set at least one of paths, methods, headers, ports (omit to for every request)');
});

const rule = weftObject({ from: from.optional(), to: to.optional() });

const rules = z
  .array(rule, { error: 'must be a list' })
  .max(B.rulesMax, { error: `must contain at most ${B.rulesMax} rules` })
  .optional();

const spec = weftObject({
  targetRef: weftObject({
    group: z.literal('', { error: 'must be "" (the core API group)' }).optional(),
    kind: z.literal('Service', { error: 'must be Service' }),
    name: dns1035Label,
  }).optional(),
  defaultAction: z.enum(AUTHZ_ACTIONS, { error: `must be one of ${AUTHZ_ACTIONS.join(', ')}` }).optional(),
  dryRun: z.boolean({ error: 'must be a boolean' }).default(false),
  deny: rules,
  allow: rules,
}).superRefine((s, ctx) => {
  // CEL: !has(self.defaultAction) || self.defaultAction != 'Allow' || !has(self.allow) || size(self.allow) == 0
  check(
    ctx,
    s.defaultAction === 'Allow' && (s.allow?.length ?? 0) > 0,
    ['defaultAction'],
    'must not be Allow when allow rules are given (an allow rule denies every request no allow rule matches)',
  );
  // A rule both allowed and denied is reported by the model (src/model/authz.ts): CEL cannot
  // compare the allow and deny item types, so zod leaves it there too and both stay twins.
});

export const AuthorizationPolicySchema = weftResource('AuthorizationPolicy', spec);

export type AuthorizationPolicyObject = z.output<typeof AuthorizationPolicySchema>;
