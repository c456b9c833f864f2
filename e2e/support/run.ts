// Runs a command for the e2e helpers: output captured, bounded in time, and an error that
// carries the command's output. Split from kube.ts to keep each helper file small.
import { spawn } from 'node:child_process';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Written to stdin. */
  input?: string;
  /** Resolve with a non-zero code instead of throwing. */
  allowFailure?: boolean;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** Runs a command; throws (with its output) on a non-zero exit unless allowFailure. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost', ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code: code ?? 128, stdout, stderr };
      if (result.code === 0 || opts.allowFailure) return resolve(result);
      const why = signal ? `killed by ${signal}` : `exit ${result.code}`;
      reject(new Error(`${cmd} ${args.join(' ')}: ${why}\n${stderr.trim()}\n${stdout.slice(-2000).trim()}`));
    });
    child.stdin.on('error', () => {}); // the command may exit before reading stdin
    child.stdin.end(opts.input ?? '');
  });
}
