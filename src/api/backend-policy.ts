// mesh.weft.dev/v1alpha1 BackendPolicy: how every caller of one Service balances load over its
// endpoints, prefers its own zone, and limits its connection pool. CEL twins of cross-field
// rules noted inline.
import { z } from 'zod';
import { BackendPolicyBounds as B, HASH_LB_ALGORITHMS, HTTP_HEADER_NAME, HTTP_HEADER_NAME_MAX, LB_ALGORITHMS, LOCALITY_MODES } from './bounds.ts';
import { dns1035Label } from './common.ts';
import { durationField, inMs } from './duration.ts';
import { check, weftObject, weftResource } from './weft-meta.ts';

const limit = z
  .int({ error: `must be an integer between ${B.limitMin} and ${B.limitMax}` })
  .min(B.limitMin, { error: `must be between ${B.limitMin} and ${B.limitMax}` })
  .max(B.limitMax, { error: `must be between ${B.limitMin} and ${B.limitMax}` });

/** RFC 7230 token: header names, and cookie names (RFC 6265 cookie-name is a token too). */
const token = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(HTTP_HEADER_NAME_MAX, { error: `must be at most ${HTTP_HEADER_NAME_MAX} characters` })
  .regex(HTTP_HEADER_NAME, { error: "must be an RFC 7230 token (letters, digits and !#$%&'*+-.^_`|~)" });

const cookie = weftObject({
  name: token,
  ttl: durationField(B.cookieTtlMin, B.cookieTtlMax).optional(),
  path: z
    .string({ error: 'must be a string' })
    .max(B.cookiePathMaxLength, { error: `must be at most ${B.cookiePathMaxLength} characters` })
    .startsWith('/', { error: 'must start with "/"' })
    .optional(),
}).transform((c) => inMs(c, ['ttl']));

const hashKey = weftObject({
  header: token.optional(),
  cookie: cookie.optional(),
  sourceIP: z.boolean({ error: 'must be a boolean' }).optional(),
}).superRefine((h, ctx) => {
  // CEL: [has(self.header), has(self.cookie), has(self.sourceIP) && self.sourceIP].exists_one(x, x)
  const set = [h.header !== undefined, h.cookie !== undefined, h.sourceIP === true].filter(Boolean).length;
  check(ctx, set !== 1, [], 'must set exactly one of header, cookie or sourceIP: true');
});

const isHashAlgorithm = (a: string) => (HASH_LB_ALGORITHMS as readonly string[]).includes(a);

const loadBalancer = weftObject({
  algorithm: z.enum(LB_ALGORITHMS, { error: `must be one of ${LB_ALGORITHMS.join(', ')}` }).default('RoundRobin'),
  hashKey: hashKey.optional(),
}).superRefine((lb, ctx) => {
  // CEL: !(self.algorithm in ['RingHash', 'Maglev']) || has(self.hashKey)
  check(ctx, isHashAlgorithm(lb.algorithm) && lb.hashKey === undefined, ['hashKey'], `is required when algorithm is ${lb.algorithm}`);
  // CEL: !has(self.hashKey) || self.algorithm in ['RingHash', 'Maglev']
  check(ctx, !isHashAlgorithm(lb.algorithm) && lb.hashKey !== undefined, ['hashKey'], `requires algorithm ${HASH_LB_ALGORITHMS.join(' or ')}`);
});

const locality = weftObject({
  mode: z.enum(LOCALITY_MODES, { error: `must be one of ${LOCALITY_MODES.join(', ')}` }),
});

const connectionPool = weftObject({
  maxConnections: limit.optional(),
  maxPendingRequests: limit.optional(),
  maxRequests: limit.optional(),
  maxRequestsPerConnection: limit.optional(),
});

const spec = weftObject({
  targetRef: weftObject({
    group: z.literal('', { error: 'must be "" (the core API group)' }).optional(),
    kind: z.literal('Service', { error: 'must be Service' }),
    name: dns1035Label,
  }),
  loadBalancer: loadBalancer.optional(),
  locality: locality.optional(),
  connectionPool: connectionPool.optional(),
}).superRefine((s, ctx) => {
  // CEL: has(self.loadBalancer) || has(self.locality) || has(self.connectionPool)
  check(
    ctx,
    s.loadBalancer === undefined && s.locality === undefined && s.connectionPool === undefined,
    [],
    'must set at least one of loadBalancer, locality or connectionPool',
  );
});

export const BackendPolicySchema = weftResource('BackendPolicy', spec);

export type BackendPolicyObject = z.output<typeof BackendPolicySchema>;
