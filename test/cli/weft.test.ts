// The real `weft` binary (node src/runtime/cli/weft.ts): help lists every flag the subcommands take,
// mistakes exit 2 naming what is wrong, and `bootstrap`'s asynchronous exit codes reach the shell.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const weftBin = fileURLToPath(new URL('../../src/runtime/cli/weft.ts', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function weft(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [weftBin, ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every `--flag` a usage text mentions. */
const flagsIn = (text: string) => new Set(text.match(/--[a-z][-a-z]*/g) ?? []);

const noStackTrace = /\bat .*\.ts:\d+/;
const emptyDir = await mkdtemp(join(tmpdir(), 'weft-cli-'));
afterAll(() => rm(emptyDir, { recursive: true, force: true }));

describe('weft binary', () => {
  it('--help lists every flag of serve and the required flags of bootstrap, exit 0', async () => {
    const [top, serve, bootstrap] = await Promise.all([weft('--help'), weft('serve', '--help'), weft('bootstrap', '--help')]);
    expect(top, top.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(top.stdout).toMatch(/^usage: weft <command>/);
    for (const cmd of ['serve', 'controller', 'bootstrap']) expect(top.stdout).toMatch(new RegExp(`^  ${cmd} `, 'm'));
    const listed = flagsIn(top.stdout);
    expect(serve.code, serve.stderr).toBe(0);
    const serveFlags = [...flagsIn(serve.stdout)];
    expect(serveFlags).toEqual(
      expect.arrayContaining(['--config-dir', '--xds-address', '--monitoring-address', '--ca-dir', '--trust-domain', '--workload-cert-ttl', '--xds-san']),
    );
    expect(serveFlags.filter((f) => !listed.has(f))).toEqual([]);
    expect(bootstrap.code, bootstrap.stderr).toBe(0);
    expect([...flagsIn(bootstrap.stdout)]).toEqual(expect.arrayContaining(['--node-id', '--namespace', '--service', '--xds-address', '--inbound-port']));
    for (const f of ['--node-id', '--namespace', '--service', '--xds-address', '--outbound-port', '--inbound-port', '--ca-dir']) expect(listed).toContain(f);
    expect(top.stdout).toContain('weft bootstrap --help');
  });

  it('exits 2 on an unknown command, naming it', async () => {
    const r = await weft('frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
    expect(r.stdout).toBe('');
  });

  it('exits 2 from serve without --config-dir, naming the flag', async () => {
    const r = await weft('serve', '--xds-address', '127.0.0.1:0');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/weft serve: --config-dir is required/);
    expect(r.stderr).not.toMatch(noStackTrace);
  });

  it('exits 2 from bootstrap with a missing flag, naming it', async () => {
    const r = await weft('bootstrap', '--node-id', 'vm-1', '--namespace', 'shop', '--service', 'web');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/weft bootstrap: --xds-address is required/);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(noStackTrace);
  });

  it('exits 1 from bootstrap --ca-dir without a CA (the asynchronous path reports its code)', async () => {
    const r = await weft('bootstrap', '--node-id', 'vm-1', '--namespace', 'shop', '--service', 'web', '--xds-address', '127.0.0.1:15012', '--ca-dir', emptyDir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/weft bootstrap: --ca-dir: /);
    expect(r.stdout).toBe('');
  });
});
