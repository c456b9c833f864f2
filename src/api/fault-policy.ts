// mesh.weft.dev/v1alpha1 FaultPolicy: chaos testing. Delays and aborts a share of the
// requests every caller sends to one Service, optionally only requests carrying given
// headers. Applied on the caller side (see docs/fault-injection.md). CEL twins noted inline.
import { z } from 'zod';
import { FaultPolicyBounds as B } from './bounds.ts';
import { dns1035Label } from './common.ts';
import { durationField, inMs } from './duration.ts';
import { headerMatch } from './traffic-split.ts';
import { check, weftObject, weftResource } from './weft-meta.ts';

function intIn(min: number, max: number) {
  const error = `must be an integer between ${min} and ${max}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
}

const percentage = z
  .number({ error: `must be a number between ${B.percentMin} and ${B.percentMax}` })
  .min(B.percentMin, { error: `must be between ${B.percentMin} and ${B.percentMax}` })
  .max(B.percentMax, { error: `must be between ${B.percentMin} and ${B.percentMax}` })
  .default(B.percentDefault);

const delay = weftObject({
  fixedDelay: durationField(B.delayMin, B.delayMax),
  percentage,
}).transform((d) => inMs(d, ['fixedDelay']));

const abort = weftObject({
  httpStatus: intIn(B.httpStatusMin, B.httpStatusMax).optional(),
  grpcStatus: intIn(B.grpcStatusMin, B.grpcStatusMax).optional(),
  percentage,
}).superRefine((a, ctx) => {
  // CEL: has(self.httpStatus) != has(self.grpcStatus)
  check(ctx, (a.httpStatus === undefined) === (a.grpcStatus === undefined), ['httpStatus'], 'exactly one of httpStatus and grpcStatus must be set');
});

const spec = weftObject({
  targetRef: weftObject({
    group: z.literal('', { error: 'must be "" (the core API group)' }).optional(),
    kind: z.literal('Service', { error: 'must be Service' }),
    name: dns1035Label,
  }),
  delay: delay.optional(),
  abort: abort.optional(),
  headers: z
    .array(headerMatch, { error: 'must be a list' })
    .max(B.headersMax, { error: `must contain at most ${B.headersMax} headers` })
    .superRefine((headers, ctx) => {
      // CEL: self.all(h, self.exists_one(o, o.name.lowerAscii() == h.name.lowerAscii()))
      const seen = new Set<string>();
      headers.forEach((h, i) => {
        const name = h.name.toLowerCase();
        check(ctx, seen.has(name), [i, 'name'], `duplicate header "${h.name}" (names are case-insensitive)`);
        seen.add(name);
      });
    })
    .default([]),
}).superRefine((s, ctx) => {
  // CEL: has(self.delay) || has(self.abort)
  check(ctx, s.delay === undefined && s.abort === undefined, ['abort'], 'at least one of delay and abort must be set');
});

export const FaultPolicySchema = weftResource('FaultPolicy', spec);

export type FaultPolicyObject = z.output<typeof FaultPolicySchema>;
