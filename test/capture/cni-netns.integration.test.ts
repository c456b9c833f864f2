// The weft-cni executable (src/capture/cni-main.ts, run by Node as the runtime runs it) and
// the weft-validation check (src/capture/validate.ts) against real network namespaces made
// here: ADD installs exactly the nat ruleset weft-init's script installs, CHECK sees it, a
// broken iptables fails the ADD with a CNI error, validation passes in a captured netns and
// exits VALIDATION_EXIT_CODE in an uncaptured one. Root and `ip netns` only (CI has both).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPTURE_ANNOTATION, encodeCapture } from '../../src/capture/annotation.ts';
import { CniErrors, POD_ANNOTATIONS_CAPABILITY } from '../../src/capture/cni-plugin.ts';
import { captureScript } from '../../src/capture/rules.ts';
import { CAPTURE_ENV, VALIDATION_EXIT_CODE } from '../../src/capture/validate.ts';
import { netnsUnavailable } from './support.ts';

const skip = netnsUnavailable();
if (skip) console.log(`test/capture/cni-netns.integration.test.ts skipped: ${skip}`);

const main = fileURLToPath(new URL('../../src/capture/cni-main.ts', import.meta.url));
const validate = fileURLToPath(new URL('../../src/capture/validate.ts', import.meta.url));
const cfg = { excludeInboundPorts: [9102], excludeOutboundPorts: [5432], excludeOutboundCidrs: ['169.254.169.254/32'], ipv6: false };
const prevResult = { cniVersion: '1.0.0', ips: [{ address: '10.77.0.2/24' }] };
const tag = `wcni${process.pid % 10000}`;
const nsA = `${tag}a`; // the plugin's
const nsB = `${tag}b`; // the script's
const nsC = `${tag}c`; // never captured

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

/** A netns with lo up and eth0 10.77.0.2/24 on a veth whose peer (inside too) answers nothing: a route off the "Pod" that goes nowhere. */
function makeNs(name: string): void {
  ip('netns', 'add', name);
  ip('-n', name, 'link', 'set', 'lo', 'up');
  ip('-n', name, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'void0');
  ip('-n', name, 'addr', 'add', '10.77.0.2/24', 'dev', 'eth0');
  ip('-n', name, 'link', 'set', 'eth0', 'up');
  ip('-n', name, 'link', 'set', 'void0', 'up');
}

function plugin(command: string, netns: string, stdin: object, extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [main], {
    input: JSON.stringify(stdin),
    env: {
      PATH: process.env.PATH ?? '',
      CNI_COMMAND: command,
      CNI_NETNS: netns,
      CNI_CONTAINERID: 'c1',
      CNI_IFNAME: 'eth0',
      CNI_ARGS: 'K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-1',
      ...extraEnv,
    },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const natRules = (ns: string) =>
  execFileSync('ip', ['netns', 'exec', ns, 'iptables-nft-save', '-t', 'nat'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith('-A') || l.startsWith(':WEFT'))
    .sort();

describe.skipIf(skip !== undefined)('weft-cni and weft-validation in real network namespaces', () => {
  let dir: string;
  const netnsPath = (n: string) => `/run/netns/${n}`;
  const conf = (annotations?: Record<string, string>) => ({
    cniVersion: '1.0.0',
    name: 'weft',
    type: 'weft-cni',
    logFile: join(dir, 'cni.log'),
    prevResult,
    ...(annotations ? { runtimeConfig: { [POD_ANNOTATIONS_CAPABILITY]: annotations } } : {}),
  });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-cni-'));
    for (const n of [nsA, nsB, nsC]) makeNs(n);
  });
  afterAll(() => {
    for (const n of [nsA, nsB, nsC]) spawnSync('ip', ['netns', 'del', n]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('ADD on an unmarked Pod returns prevResult and touches nothing', () => {
    const r = plugin('ADD', netnsPath(nsC), conf({ other: 'x' }));
    expect([r.code, JSON.parse(r.stdout)]).toEqual([0, prevResult]);
    expect(natRules(nsC).filter((l) => l.includes('WEFT'))).toEqual([]);
  });

  it('ADD on a marked Pod installs the very ruleset weft-init script installs; CHECK agrees; latency is logged', () => {
    const r = plugin('ADD', netnsPath(nsA), conf({ [CAPTURE_ANNOTATION]: encodeCapture(cfg) }));
    expect(r.stderr).toBe('');
    expect([r.code, JSON.parse(r.stdout)]).toEqual([0, prevResult]);
    execFileSync('ip', ['netns', 'exec', nsB, 'sh', '-ec', captureScript(cfg)]);
    expect(natRules(nsA)).toEqual(natRules(nsB));
    expect(natRules(nsA)).toContain('-A WEFT_OUT_REDIRECT -p tcp -j REDIRECT --to-ports 15001');

    expect(plugin('CHECK', netnsPath(nsA), conf({ [CAPTURE_ANNOTATION]: encodeCapture(cfg) })).code).toBe(0);
    const missing = plugin('CHECK', netnsPath(nsC), conf({ [CAPTURE_ANNOTATION]: encodeCapture(cfg) }));
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).msg).toMatch(/WEFT_INBOUND is missing/);

    const log = readFileSync(join(dir, 'cni.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { captured: boolean; applyMs: number; totalMs: number });
    const captured = log.filter((l) => l.captured);
    expect(captured).toHaveLength(1);
    console.log(
      `[cni] plugin ADD of a marked Pod (real netns, under contention): rules applied in ${captured[0]?.applyMs} ms, whole run ${captured[0]?.totalMs} ms`,
    );
  });

  it('fails closed: a marked Pod whose rules cannot be applied gets a CNI error, exit 1', () => {
    // binDirs (searched before the usual places) holds an iptables-nft-restore that always fails.
    const bin = join(dir, 'badbin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'iptables-nft-restore'), '#!/bin/sh\necho "iptables-restore: line 2 failed" >&2\nexit 1\n', { mode: 0o755 });
    const r = plugin('ADD', netnsPath(nsC), { ...conf({ [CAPTURE_ANNOTATION]: encodeCapture(cfg) }), binDirs: [bin] });
    expect([r.code, r.stderr]).toEqual([1, '']);
    const err = JSON.parse(r.stdout) as { cniVersion: string; code: number; msg: string; details: string };
    expect(err).toMatchObject({ cniVersion: '1.0.0', code: CniErrors.captureFailed, msg: expect.stringMatching(/shop\/web-1/) });
    expect(err.details).toMatch(/line 2 failed/);
  });

  it('weft-validation exits 0 in the captured netns and VALIDATION_EXIT_CODE in an uncaptured one', () => {
    const run = (ns: string) =>
      spawnSync('ip', ['netns', 'exec', ns, 'setpriv', '--reuid=65532', '--regid=65532', '--clear-groups', process.execPath, validate], {
        env: { PATH: process.env.PATH ?? '', [CAPTURE_ENV]: encodeCapture(cfg) },
        encoding: 'utf8',
        timeout: 20_000,
      });
    const ok = run(nsA);
    expect(ok.stdout).toMatch(/traffic capture is in effect/);
    expect(ok.status).toBe(0);
    const bad = run(nsC);
    expect(bad.stderr).toMatch(/NOT in effect/);
    expect(bad.status).toBe(VALIDATION_EXIT_CODE);
  });
});
