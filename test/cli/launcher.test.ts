// On a Node too old for Weft, the launcher (bin/weft.js, plain JavaScript) names the Node to
// use instead of failing on the first .ts file with `Unknown file extension ".ts"`.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const launcher = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { cwd?: string; timeout?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd ?? tmpdir(), timeout: opts.timeout ?? 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('on a Node older than 22.19', () => {
  // The version Node reports, lowered before the launcher runs: the check is what is tested.
  const pretend = (v: string) => `data:text/javascript,Object.defineProperty(process.versions,"node",{value:"${v}"})`;

  it.each(['20.11.1', '22.12.0', '18.20.4'])('Node %s is told which Node to use', async (v) => {
    const r = await run(process.execPath, ['--import', pretend(v), launcher, '--help']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`weft needs Node.js 22.19 or later (24 LTS recommended); this is Node ${v}`);
    expect(r.stderr).not.toContain('Unknown file extension');
  });

  it('a real old Node on PATH, if this machine has one, says the same', async (ctx) => {
    const system = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p));
    const version = system ? (await run(system, ['--version'])).stdout.trim() : '';
    const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
    if (!system || major > 22 || (major === 22 && minor >= 19)) return ctx.skip();
    const r = await run(system, [launcher, '--help']);
    expect(r.stderr).toContain(`this is Node ${version.replace(/^v/, '')}`);
    expect(r.code).toBe(1);
  });
});
