// The image's TypeScript without Node's stripper (bin/prestrip.js at build time,
// bin/stripped-hook.js at run time; docs/scale.md "Idle memory"): modules load from the
// pre-stripped copies, a module changed since falls back to Node's own stripping, and the
// stack traces still point at the .ts lines.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const hook = `--import=${root}bin/stripped-hook.js`;
// Printed at exit: whether Node loaded its TypeScript stripper (amaro) in this process.
const report = `--import=data:text/javascript,process.on("exit",()=>process.stderr.write("stripper loaded: "+process.moduleLoadList.some((m)=>m.includes("amaro"))+"\\n"))`;

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { ...process.env, ...env }, timeout: 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

const prestrip = (out: string, ...dirs: string[]) => run([`${root}bin/prestrip.js`, out, ...dirs]);

describe('pre-stripped TypeScript', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-stripped-'));
  const src = join(dir, 'src');
  const out = join(dir, 'out');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads modules without the stripper, errors at their .ts lines; a module changed since is stripped by Node', async () => {
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'main.ts'), "import { twice } from './lib.ts';\nconst n: number = twice(21);\nconsole.log(n);\n");
    writeFileSync(
      join(src, 'lib.ts'),
      'interface Unused {\n  a: string;\n}\nexport function twice(x: number): number {\n  if (x < 0) throw new Error("negative");\n  return 2 * x;\n}\n',
    );
    expect((await prestrip(out, src)).stdout).toContain('prestrip: 2 modules');

    const hit = await run([report, hook, join(src, 'main.ts')], { WEFT_STRIPPED_DIR: out });
    expect(hit.stdout).toBe('42\n');
    expect(hit.stderr).toContain('stripper loaded: false');

    writeFileSync(join(src, 'main.ts'), "import { twice } from './lib.ts';\nconst n: number = twice(-1);\nconsole.log(n);\n");
    const changed = await run([report, hook, join(src, 'main.ts')], { WEFT_STRIPPED_DIR: out });
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain('stripper loaded: true');
    // lib.ts came from the pre-stripped copy, which keeps every position of the source.
    expect(changed.stderr).toContain(`${join(src, 'lib.ts')}:5:`);
  });

  it('without the directory the hook changes nothing', async () => {
    const r = await run([report, hook, join(src, 'main.ts')], { WEFT_STRIPPED_DIR: join(dir, 'missing') });
    expect(r.stderr).toContain('stripper loaded: true');
  });

  it("the weft CLI runs from the image build's stripped copies without the stripper", async () => {
    const cli = join(dir, 'cli');
    await prestrip(cli, ...['src', 'xds', 'webhook'].map((d) => join(root, d)));
    const r = await run([report, hook, join(root, 'src/runtime/cli/weft.ts'), '--help'], { WEFT_STRIPPED_DIR: cli });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('serve');
    expect(r.stderr).toContain('stripper loaded: false');
  });
});
