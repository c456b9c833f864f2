// Go-style durations: the syntax CEL's duration() accepts, parsed to the nanosecond the
// way Go's time.ParseDuration does, so the CRD can mirror bounds exactly.
import { describe, expect, it } from 'vitest';
import { parseDurationMs, parseDurationNs } from '../../src/api/duration.ts';

describe('parseDurationMs', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
    ['2h45m', 9_900_000],
    ['500us', 0.5],
    ['1s500ms', 1500],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDurationMs(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', '5', 's', '-1s', '1d', '1 s', '1.s', '.5s', '1S', '5µs', 'x'.repeat(40)])('rejects %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });
});

describe('parseDurationNs (Go time.ParseDuration)', () => {
  it.each([
    ['1h', 3_600_000_000_000n],
    ['1m30.5s', 90_500_000_000n],
    ['1000000ns', 1_000_000n],
    ['1.5us', 1500n],
    // Each fraction is truncated to whole nanoseconds...
    ['3600.0000000001s', 3_600_000_000_000n],
    ['59m60.0000000009s', 3_600_000_000_000n],
    ['0.9999999999ms', 999_999n],
    ['1.9ns', 1n],
    ['0.5ns1.5ns', 1n],
    // ...through a float64, as Go does: digits past uint64 precision are ignored and the
    // rest rounds, so 0.999…9ms (23 nines) is exactly 1ms.
    ['0.99999999999999999999999ms', 1_000_000n],
    ['2562047h47m16.854775807s', 9_223_372_036_854_775_807n], // the largest Go duration
  ])('%s = %d ns', (text, ns) => {
    expect(parseDurationNs(text)).toBe(ns);
  });

  it.each(['2562047h47m16.854775808s', '9999999999999h', '9223372036854775808ns'])('rejects %s (overflows a Go duration)', (text) => {
    expect(parseDurationNs(text)).toBeUndefined();
  });
});
