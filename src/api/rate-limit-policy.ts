// mesh.weft.dev/v1alpha1 RateLimitPolicy: local token buckets on the receiving side of one
// Service (every Pod behind it counts on its own: N replicas admit N times the rate).
// CEL twins of cross-field rules noted inline.
import { z } from 'zod';
import { HTTP_METHODS, RateLimitPolicyBounds as B } from './bounds.ts';
import { dns1035Label } from './common.ts';
import { durationField, inMs } from './duration.ts';
import { check, weftObject, weftResource } from './weft-meta.ts';

function intIn(min: number, max: number) {
  const error = `must be an integer between ${min} and ${max}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
}

/**
 * `requests` per `interval`, at most `burst` at once (default: requests). Envoy refills the
 * bucket continuously (requests/interval per second), so a burst below requests smooths
 * the rate: 20 per 1s with burst 1 admits about one request every 50ms.
 */
const bucket = weftObject({
  requests: intIn(B.requestsMin, B.requestsMax),
  interval: durationField(B.intervalMin, B.intervalMax).prefault(B.intervalDefault),
  burst: intIn(B.burstMin, B.burstMax).optional(),
}).transform((b) => inMs(b, ['interval']));

const pathPrefix = z
  .string({ error: 'must be a string' })
  .max(B.pathMaxLength, { error: `must be at most ${B.pathMaxLength} characters` })
  // CEL: self == '/' || (self.startsWith('/') && !self.endsWith('/') && !self.contains('?') && !self.contains('#'))
  .regex(/^\/([^?#]*[^/?#])?$/, { error: 'must start with "/", not end with "/" (unless it is "/") and contain no "?" or "#"' });

const rule = weftObject({
  match: weftObject({
    pathPrefix: pathPrefix.default('/'),
    method: z.enum(HTTP_METHODS, { error: `must be one of ${HTTP_METHODS.join(', ')}` }).optional(),
  }).prefault({}),
  limit: bucket,
  perCaller: z.boolean({ error: 'must be a boolean' }).default(false),
});

const spec = weftObject({
  targetRef: weftObject({
    group: z.literal('', { error: 'must be "" (the core API group)' }).optional(),
    kind: z.literal('Service', { error: 'must be Service' }),
    name: dns1035Label,
  }),
  limit: bucket.optional(),
  rules: z
    .array(rule, { error: 'must be a list' })
    .max(B.rulesMax, { error: `must contain at most ${B.rulesMax} rules` })
    .superRefine((rules, ctx) => {
      // CEL: self.all(r, self.exists_one(o, o.match.pathPrefix == r.match.pathPrefix && <same method or both absent>))
      const seen = new Set<string>();
      rules.forEach((r, i) => {
        const key = `${r.match.method ?? '*'} ${r.match.pathPrefix}`;
        check(ctx, seen.has(key), [i, 'match'], `conflicts with an earlier rule matching the same path prefix and method (${key})`);
        seen.add(key);
      });
    })
    .default([]),
}).superRefine((s, ctx) => {
  // CEL: has(self.limit) || (has(self.rules) && size(self.rules) > 0)
  check(ctx, s.limit === undefined && s.rules.length === 0, ['limit'], 'is required when there are no rules (the policy would limit nothing)');
});

export const RateLimitPolicySchema = weftResource('RateLimitPolicy', spec);

export type RateLimitPolicyObject = z.output<typeof RateLimitPolicySchema>;
