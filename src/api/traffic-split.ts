// mesh.weft.dev/v1alpha1 TrafficSplit: SMI's service/backends with Gateway API matches.
// Every rule here has a CEL twin in the CRD (noted beside it).
import { z } from 'zod';
import { HEADER_MATCH_TYPES, HTTP_HEADER_NAME, HTTP_HEADER_NAME_MAX, PATH_MATCH_TYPES, TrafficSplitBounds as B } from './bounds.ts';
import { dns1035Label } from './common.ts';
import { check, weftObject, weftResource } from './weft-meta.ts';

const backend = weftObject({
  service: dns1035Label,
  weight: z
    .int({ error: 'must be an integer' })
    .min(B.weightMin, { error: `must be between ${B.weightMin} and ${B.weightMax}` })
    .max(B.weightMax, { error: `must be between ${B.weightMin} and ${B.weightMax}` }),
});

const matchValue = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(B.valueMaxLength, { error: `must be at most ${B.valueMaxLength} characters` });

const pathMatch = weftObject({
  type: z.enum(PATH_MATCH_TYPES, { error: `must be one of ${PATH_MATCH_TYPES.join(', ')}` }).default('PathPrefix'),
  value: matchValue.default('/'),
}).superRefine((p, ctx) => {
  // CEL: self.type == 'RegularExpression' || self.value.startsWith('/')
  check(ctx, p.type !== 'RegularExpression' && !p.value.startsWith('/'), ['value'], `must start with "/" for type ${p.type}`);
});

export const headerMatch = weftObject({
  name: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(HTTP_HEADER_NAME_MAX, { error: `must be at most ${HTTP_HEADER_NAME_MAX} characters` })
    .regex(HTTP_HEADER_NAME, { error: 'must be an HTTP header name (RFC 7230 token)' }),
  type: z.enum(HEADER_MATCH_TYPES, { error: `must be one of ${HEADER_MATCH_TYPES.join(', ')}` }).default('Exact'),
  value: matchValue,
});

const routeMatch = weftObject({
  path: pathMatch.optional(),
  headers: z
    .array(headerMatch, { error: 'must be a list' })
    .max(B.headersPerMatchMax, { error: `must contain at most ${B.headersPerMatchMax} headers` })
    .default([])
    .superRefine((headers, ctx) => {
      // CEL: self.all(h, self.exists_one(o, o.name.lowerAscii() == h.name.lowerAscii()))
      const seen = new Set<string>();
      headers.forEach((h, i) => {
        const name = h.name.toLowerCase();
        check(ctx, seen.has(name), [i, 'name'], `duplicate header "${h.name}" (names are case-insensitive)`);
        seen.add(name);
      });
    }),
});

export const TrafficSplitSchema = weftResource(
  'TrafficSplit',
  weftObject({
    service: dns1035Label,
    backends: z
      .array(backend, { error: 'must be a list' })
      .min(B.backendsMin, { error: `must contain at least ${B.backendsMin} backend` })
      .max(B.backendsMax, { error: `must contain at most ${B.backendsMax} backends` })
      .superRefine((backends, ctx) => {
        // CEL: self.all(b, self.exists_one(o, o.service == b.service))
        const seen = new Set<string>();
        backends.forEach((b, i) => {
          check(ctx, seen.has(b.service), [i, 'service'], `duplicate backend "${b.service}"`);
          seen.add(b.service);
        });
        // CEL: self.exists(b, b.weight > 0)
        check(ctx, !backends.some((b) => b.weight > 0), [], 'at least one backend must have a weight greater than 0');
      }),
    matches: z
      .array(routeMatch, { error: 'must be a list' })
      .max(B.matchesMax, { error: `must contain at most ${B.matchesMax} matches` })
      .default([]),
  }),
);

export type TrafficSplitObject = z.output<typeof TrafficSplitSchema>;
