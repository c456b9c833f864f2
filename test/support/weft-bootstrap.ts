import { runBootstrapAsync } from '../../src/runtime/cli/bootstrap.ts';

/** `weft bootstrap …` in-process (the same code path as the binary); resolves to the bootstrap YAML. */
export async function weftBootstrap(args: string[]): Promise<string> {
  let out = '';
  let err = '';
  const code = await runBootstrapAsync(args, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  if (code !== 0) throw new Error(`weft bootstrap exited ${code}: ${err}`);
  return out;
}
