// `weft` outside the checkout: `npm pack`, then `npm install -g` of that tarball into a
// temporary prefix (dependencies from the npm registry, no devDependencies, sources under
// node_modules where Node itself refuses to strip types), run from an unrelated directory.
// (Integration tier: it needs the npm registry. The old-Node check: launcher.test.ts.)
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
// npm scripts and this suite run on the checkout's Node 24 (node_modules/.bin first on PATH).
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, npm_config_update_notifier: 'false', npm_config_fund: 'false' };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { cwd?: string; timeout?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd ?? tmpdir(), env, timeout: opts.timeout ?? 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

let work = '';
let weft = '';

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'weft-pack-'));
  const pack = await run('npm', ['pack', '--pack-destination', work, repo], { cwd: work, timeout: 120_000 });
  expect(pack.code, pack.stderr).toBe(0);
  const [tarball] = (await readdir(work)).filter((f) => f.endsWith('.tgz'));
  const prefix = join(work, 'prefix');
  const install = await run('npm', ['install', '-g', '--no-audit', '--prefix', prefix, join(work, tarball ?? 'missing.tgz')], { cwd: work, timeout: 240_000 });
  expect(install.code, install.stderr).toBe(0);
  weft = join(prefix, 'bin', 'weft');
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('weft installed from npm pack', () => {
  it('ships the launcher, the sources and the generated protos, not the tests or the tools', () => {
    const pkg = join(dirname(weft), '..', 'lib', 'node_modules', 'weft');
    expect(existsSync(join(pkg, 'bin/weft.js'))).toBe(true);
    expect(existsSync(join(pkg, 'xds/gen/envoy/service/discovery/v3/ads_pb.js'))).toBe(true);
    expect(existsSync(join(pkg, 'test'))).toBe(false);
    expect(existsSync(join(pkg, 'scripts/gen-protos.ts'))).toBe(false);
  });

  it('prints its help from any directory', async () => {
    const r = await run(weft, ['--help']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('usage: weft <command>');
    expect(r.code).toBe(0);
  });

  it('runs a command that loads the xDS code (bootstrap), without a warning about how', async () => {
    const r = await run(weft, ['bootstrap', '--node-id', 'vm-1', '--namespace', 'shop', '--service', 'web', '--xds-address', '127.0.0.1:15010']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('id: vm-1');
    expect(r.code).toBe(0);
  });
});
