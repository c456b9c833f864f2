// Go-style durations (`250ms`, `1m30s`, `1.5s`). CEL's duration() is Go's
// time.ParseDuration: whole nanoseconds, each fraction truncated, overflow an error. We
// parse the same way, so bounds and comparisons agree with the CRD to the nanosecond
// (`3600.0000000001s` is exactly 1h to both); the model gets whole milliseconds.
import { z } from 'zod';
import { DURATION_MAX_LENGTH, DURATION_PATTERN } from './bounds.ts';

const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const SEGMENT = /([0-9]+)(?:\.([0-9]+))?(ns|us|ms|s|m|h)/g;
const LIMIT = 1n << 63n; // Go accumulates in uint64 and refuses anything above this

/** Go's leadingFraction: digits beyond uint64 precision are ignored. */
function fraction(digits: string): { f: bigint; scale: number } {
  let f = 0n;
  let scale = 1;
  for (const c of digits) {
    const next = f * 10n + BigInt(c);
    if (f > (LIMIT - 1n) / 10n || next > LIMIT) break;
    f = next;
    scale *= 10;
  }
  return { f, scale };
}

/** Exact value in nanoseconds as Go computes it, or undefined when not a duration (or it overflows). */
export function parseDurationNs(text: string): bigint | undefined {
  if (text.length > DURATION_MAX_LENGTH || !DURATION_PATTERN.test(text)) return undefined;
  let total = 0n;
  for (const [, whole = '', frac = '', unitName = ''] of text.matchAll(SEGMENT)) {
    const unit = UNIT_NS[unitName] ?? 1n;
    let v = BigInt(whole);
    if (v > LIMIT / unit) return undefined;
    v *= unit;
    const { f, scale } = fraction(frac);
    // Go: v += uint64(float64(f) * (float64(unit) / scale)), i.e. truncated to whole ns.
    if (f > 0n) v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
    total += v;
    if (v > LIMIT || total > LIMIT) return undefined;
  }
  return total < LIMIT ? total : undefined;
}

/** Value in milliseconds (may be fractional), or undefined when not a duration. */
export function parseDurationMs(text: string): number | undefined {
  const ns = parseDurationNs(text);
  return ns === undefined ? undefined : Number(ns) / 1e6;
}

function mustParse(text: string): bigint {
  const ns = parseDurationNs(text);
  if (ns === undefined) throw new Error(`bad duration constant ${text}`);
  return ns;
}

/**
 * A duration field bounded by [min, max] (Go duration strings), producing integer
 * nanoseconds so cross-field rules compare what CEL compares; turn them into the model's
 * milliseconds with `inMs` once those rules ran. max is at most hours, so the number is exact.
 */
export function durationField(min: string, max: string) {
  const minNs = mustParse(min);
  const maxNs = mustParse(max);
  return z
    .string({ error: 'must be a duration string such as 250ms, 5s or 1m30s' })
    .max(DURATION_MAX_LENGTH, { error: `must be at most ${DURATION_MAX_LENGTH} characters` })
    .transform((text, ctx) => {
      const ns = parseDurationNs(text);
      if (ns === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration such as 250ms, 5s or 1m30s` });
        return z.NEVER;
      }
      if (ns < minNs || ns > maxNs) {
        ctx.addIssue({ code: 'custom', message: `must be between ${min} and ${max}, got ${text}` });
        return z.NEVER;
      }
      return Number(ns);
    });
}

/**
 * `o` with the named duration fields (nanoseconds, from durationField) in whole
 * milliseconds. Every minimum bound is ≥ 1ms, so rounding never yields 0.
 */
export function inMs<T extends object>(o: T, keys: readonly (keyof T)[]): T {
  const out = { ...o };
  for (const k of keys) {
    const ns = out[k];
    if (typeof ns === 'number') out[k] = Math.round(ns / 1e6) as T[keyof T];
  }
  return out;
}
