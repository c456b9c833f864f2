// mesh.weft.dev/v1alpha1 RetryPolicy: retries, timeouts, retry budget and outlier
// detection for every caller of one Service. CEL twins of cross-field rules noted inline.
import { z } from 'zod';
import { RETRY_ON, RetryPolicyBounds as B } from './bounds.ts';
import { dns1035Label } from './common.ts';
import { durationField, inMs } from './duration.ts';
import { check, weftObject, weftResource } from './weft-meta.ts';

function intIn(min: number, max: number) {
  const error = `must be an integer between ${min} and ${max}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
}

const timeout = durationField(B.timeoutMin, B.timeoutMax);
const backoffInterval = durationField(B.backoffMin, B.backoffMax);
const outlierInterval = durationField(B.outlierIntervalMin, B.outlierIntervalMax);

function unique<T>(ctx: z.RefinementCtx, items: readonly T[], what: string): void {
  // CEL: self.all(x, self.exists_one(y, y == x))  (or x-kubernetes-list-type: set)
  const seen = new Set<T>();
  items.forEach((item, i) => {
    check(ctx, seen.has(item), [i], `duplicate ${what} ${JSON.stringify(item)}`);
    seen.add(item);
  });
}

const backoff = weftObject({ baseInterval: backoffInterval, maxInterval: backoffInterval.optional() })
  .superRefine((b, ctx) => {
    // CEL: !has(self.maxInterval) || duration(self.maxInterval) >= duration(self.baseInterval)
    check(ctx, b.maxInterval !== undefined && b.maxInterval < b.baseInterval, ['maxInterval'], 'must be greater than or equal to baseInterval');
  })
  .transform((b) => inMs(b, ['baseInterval', 'maxInterval']));

const budget = weftObject({
  percent: z
    .number({ error: `must be a number between ${B.budgetPercentMin} and ${B.budgetPercentMax}` })
    .min(B.budgetPercentMin, { error: `must be between ${B.budgetPercentMin} and ${B.budgetPercentMax}` })
    .max(B.budgetPercentMax, { error: `must be between ${B.budgetPercentMin} and ${B.budgetPercentMax}` })
    .default(B.budgetPercentDefault),
  minRetryConcurrency: intIn(B.minRetryConcurrencyMin, B.minRetryConcurrencyMax).default(B.minRetryConcurrencyDefault),
});

const outlierDetection = weftObject({
  consecutive5xxErrors: intIn(B.consecutive5xxMin, B.consecutive5xxMax).default(B.consecutive5xxDefault),
  interval: outlierInterval.prefault(B.outlierIntervalDefault),
  baseEjectionTime: outlierInterval.prefault(B.baseEjectionTimeDefault),
  maxEjectionPercent: intIn(B.maxEjectionPercentMin, B.maxEjectionPercentMax).default(B.maxEjectionPercentDefault),
}).transform((o) => inMs(o, ['interval', 'baseEjectionTime']));

const exemptPath = z
  .string({ error: 'must be a string' })
  .max(B.pathMaxLength, { error: `must be at most ${B.pathMaxLength} characters` })
  .startsWith('/', { error: 'must start with "/"' });

const spec = weftObject({
  targetRef: weftObject({
    group: z.literal('', { error: 'must be "" (the core API group)' }).optional(),
    kind: z.literal('Service', { error: 'must be Service' }),
    name: dns1035Label,
  }),
  attempts: intIn(B.attemptsMin, B.attemptsMax).default(B.attemptsDefault),
  perTryTimeout: timeout.optional(),
  timeout: timeout.optional(),
  retryOn: z
    .array(z.enum(RETRY_ON, { error: `must be one of ${RETRY_ON.join(', ')}` }), { error: 'must be a list' })
    .min(1, { error: 'must contain at least one condition' })
    .max(RETRY_ON.length, { error: `must contain at most ${RETRY_ON.length} conditions` })
    .superRefine((list, ctx) => unique(ctx, list, 'condition'))
    .default([...B.retryOnDefault]),
  retriableStatusCodes: z
    .array(intIn(B.statusCodeMin, B.statusCodeMax), { error: 'must be a list' })
    .max(B.statusCodesMax, { error: `must contain at most ${B.statusCodesMax} status codes` })
    .superRefine((list, ctx) => unique(ctx, list, 'status code'))
    .default([]),
  backoff: backoff.optional(),
  budget: budget.optional(),
  retryNonIdempotent: z.boolean({ error: 'must be a boolean' }).default(false),
  exemptPaths: z
    .array(exemptPath, { error: 'must be a list' })
    .max(B.exemptPathsMax, { error: `must contain at most ${B.exemptPathsMax} paths` })
    .superRefine((list, ctx) => unique(ctx, list, 'path'))
    .default([]),
  outlierDetection: outlierDetection.optional(),
})
  .superRefine((s, ctx) => {
    // CEL: !has(self.perTryTimeout) || !has(self.timeout) || duration(self.perTryTimeout) <= duration(self.timeout)
    check(
      ctx,
      s.perTryTimeout !== undefined && s.timeout !== undefined && s.perTryTimeout > s.timeout,
      ['perTryTimeout'],
      'must be less than or equal to timeout',
    );
    // CEL: self.retryOn.exists(r, r == 'retriable-status-codes') == (size(self.retriableStatusCodes) > 0)
    const wantsCodes = s.retryOn.includes('retriable-status-codes');
    check(
      ctx,
      wantsCodes && s.retriableStatusCodes.length === 0,
      ['retriableStatusCodes'],
      'must list at least one status code when retryOn includes retriable-status-codes',
    );
    check(ctx, !wantsCodes && s.retriableStatusCodes.length > 0, ['retriableStatusCodes'], 'requires retryOn to include retriable-status-codes');
  })
  .transform((s) => inMs(s, ['perTryTimeout', 'timeout']));

export const RetryPolicySchema = weftResource('RetryPolicy', spec);

export type RetryPolicyObject = z.output<typeof RetryPolicySchema>;
