// The telemetry benchmark must not rot: a tiny run (real Envoy, weft serve, a real Collector)
// completes and prints its figure lines. Figures are never asserted.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runTelemetryBench } from '../../bench/telemetry.ts';
import { envoyBinary } from '../support/envoy-binary.ts';
import { telemetryTools } from '../support/telemetry-backends.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('bench telemetry (smoke)', () => {
  it('prints requests/s and p99 off and on, and their ratio', { timeout: 180_000 }, async () => {
    process.env.WEFT_ENVOY ??= envoyBinary();
    telemetryTools();
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    });
    await runTelemetryBench(['--requests', '200', '--rounds', '1', '--concurrency', '4']);
    const out = lines.join('\n');
    expect(out).toMatch(/^round 1 telemetry off: \d+ req\/s, p50 [\d.]+ ms, p99 [\d.]+ ms$/m);
    expect(out).toMatch(/^round 1 telemetry on : \d+ req\/s, p50 [\d.]+ ms, p99 [\d.]+ ms$/m);
    expect(out).toMatch(/^ratio on\/off: throughput [\d.]+, p99 [\d.]+$/m);
  });
});
