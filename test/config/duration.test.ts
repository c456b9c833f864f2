// Go-style durations: the syntax CEL's duration() accepts, so the CRD can mirror bounds.
import { describe, expect, it } from 'vitest';
import { parseDurationMs } from '../../src/config/schemas/duration.ts';

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
