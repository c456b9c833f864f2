// Go-style durations (`250ms`, `1m30s`, `1.5s`), parsed to milliseconds. CEL's
// duration() accepts the same syntax, so the CRD can apply the same bounds.
import { z } from 'zod';
import { DURATION_MAX_LENGTH, DURATION_PATTERN } from './bounds.ts';

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SEGMENT = /([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)/g;

/** Exact value in milliseconds (may be fractional), or undefined when not a duration. */
export function parseDurationMs(text: string): number | undefined {
  if (text.length > DURATION_MAX_LENGTH || !DURATION_PATTERN.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(SEGMENT)) total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
  return total;
}

function mustParse(text: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined) throw new Error(`bad duration constant ${text}`);
  return ms;
}

/**
 * A duration field bounded by [min, max] (Go duration strings), producing whole
 * milliseconds. Bounds are checked on the exact value; min is ≥ 1ms so rounding
 * never yields 0.
 */
export function durationField(min: string, max: string) {
  const minMs = mustParse(min);
  const maxMs = mustParse(max);
  return z
    .string({ error: 'must be a duration string such as 250ms, 5s or 1m30s' })
    .max(DURATION_MAX_LENGTH, { error: `must be at most ${DURATION_MAX_LENGTH} characters` })
    .transform((text, ctx) => {
      const ms = parseDurationMs(text);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration such as 250ms, 5s or 1m30s` });
        return z.NEVER;
      }
      if (ms < minMs || ms > maxMs) {
        ctx.addIssue({ code: 'custom', message: `must be between ${min} and ${max}, got ${text}` });
        return z.NEVER;
      }
      return Math.round(ms);
    });
}
