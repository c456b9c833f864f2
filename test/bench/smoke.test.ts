// Benchmarks must not rot: each runs in a tiny configuration and must complete and print its
// figure lines. Figures are never asserted (timing on a shared machine means nothing here);
// counts that say the run did its work (every proxy ACKed, no NACK) are.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCaBench } from '../../bench/ca.ts';
import { runXdsBench } from '../../bench/xds.ts';
import { runEgressBench } from '../../bench/egress.ts';
import { runTlsFloorBench } from '../../bench/tls-floor.ts';

/** Runs a bench, returning what it printed through console.log. */
async function printed(run: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  });
  await run();
  return lines.join('\n');
}

const figure = String.raw`[\d.]+ (?:µs|ms|s)`;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('benchmarks (smoke)', () => {
  it('bench tls-floor: memory per connection, plaintext, TLS and sliced TLS', { timeout: 60_000 }, async () => {
    const out = await printed(() => runTlsFloorBench(['--connections', '5', '--bytes', '20000', '--responses', '1']));
    for (const mode of ['plaintext', 'tls', 'tls-sliced']) expect(out).toMatch(new RegExp(`^  ${mode} +-?[\\d.]+ KiB +-?[\\d.]+ KiB +-?[\\d.]+ KiB$`, 'm'));
  });

  it('bench egress: a scoped sidecar is sent less than an unscoped one', { timeout: 60_000 }, async () => {
    const out = await printed(() => runEgressBench(['--namespaces', '2', '--services-per-namespace', '5']));
    expect(out).toMatch(/^mesh: 10 Services/m);
    const total = (scope: string) => Number(new RegExp(`^weft.dev/egress "${scope.replace(/[.*/()]/g, '\\$&')}": ([\\d.]+) KiB`, 'm').exec(out)?.[1]);
    expect(total('ns-01/svc-4')).toBeGreaterThan(0);
    expect(total('ns-01/svc-4')).toBeLessThan(total('./*'));
    expect(total('./*')).toBeLessThan(total('(none: every Service)'));
  });

  it('bench xds: 20 proxies, one round of changes', { timeout: 60_000 }, async () => {
    const out = await printed(() => runXdsBench(['--proxies', '20', '--rounds', '1', '--namespaces', '2', '--services', '4', '--endpoints', '2']));
    expect(out).toMatch(/^mesh: 2 namespaces × 4 services × 2 ports, 2 endpoints each, 2 TrafficSplits, 2 RetryPolicies$/m);
    expect(out).toMatch(/^proxies: 20 SotW ADS streams over 1 HTTP\/2 connection\(s\), 8 distinct configs/m);
    for (const line of [
      'model build',
      'distinct config, first of a new model',
      'distinct config, each further one',
      'all 8 distinct configs',
      'extra proxy sharing a config',
    ]) {
      expect(out).toMatch(new RegExp(`^  ${line}\\s+${figure}`, 'm'));
    }
    expect(out).toMatch(new RegExp(`^  one proxy per config \\(8\\) synced in\\s+${figure}`, 'm'));
    expect(out).toMatch(/^  remaining 12 proxies synced in .*\(20 connected, \d+ ACKs, 0 NACKs\)$/m);
    expect(out).toMatch(/^  RSS per connected proxy .* KiB/m);
    expect(out).toMatch(/^  RSS per proxy sharing a config .* KiB/m);
    for (const change of [String.raw`split flip \(RDS\)`, String.raw`endpoint add \(EDS\)`]) {
      expect(out).toMatch(new RegExp(`^  #1 ${change}\\s+p50 ${figure}, p90 ${figure}, max ${figure} \\| 20/20 ACKed \\| .* 0 NACKs \\|`, 'm'));
    }
    expect(out).not.toContain('MISSING');
    expect(out).not.toMatch(/problems:/);
    expect(out).toMatch(new RegExp(`total push time .*split flip\\s*: median ${figure}, worst ${figure} over 1 round`));
    expect(out).toMatch(new RegExp(`total push time .*endpoint add: median ${figure}, worst ${figure} over 1 round`));
  });

  it('bench ca --quick: every library, key and mode', { timeout: 60_000 }, async () => {
    const out = await printed(() => runCaBench(['--quick']));
    expect(out).toMatch(/^certificates per second .*quick/m);
    for (const key of ['ECDSA P-256', 'RSA-2048']) {
      for (const mode of ['issue', 'sign']) expect(out).toMatch(new RegExp(`^pkijs \\+ node:crypto \\(weft\\)\\s+${key}\\s+${mode}\\s+\\d+$`, 'm'));
    }
    for (const mode of ['issue', 'sign']) {
      expect(out).toMatch(new RegExp(`^node-forge\\s+RSA-2048\\s+${mode}\\s+\\d+$`, 'm'));
      expect(out).toMatch(new RegExp(`^node-forge\\s+ECDSA P-256\\s+${mode}\\s+n/a`, 'm'));
    }
  });
});
