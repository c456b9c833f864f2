// Runs the real control plane (`weft serve`) as a child process on a config directory,
// on kernel-chosen ports (read back from its `{"event":"ready"}` stdout line), and stops it
// after the test file even if the test failed.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const weftBin = fileURLToPath(new URL('../../src/runtime/cli/weft.ts', import.meta.url));

export interface WeftServe {
  /** 127.0.0.1:PORT, for renderBootstrap's xdsAddress. */
  readonly xdsAddress: string;
  readonly monitoringUrl: string;
  /** Last 64 KiB of its stdout+stderr (pino JSON lines). */
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
afterAll(async () => {
  await Promise.all([...running].map((c) => stopChild(c)));
});
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

async function stopChild(child: ChildProcess): Promise<void> {
  running.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  if (!(await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]))) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** The ports from serve's ready line, if it has been printed. */
function readyPorts(output: string): { xdsPort: number; monitoringPort: number } | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes('"ready"')) continue;
    try {
      const j = JSON.parse(line) as { event?: string; xdsPort?: number; monitoringPort?: number };
      if (j.event === 'ready' && j.xdsPort && j.monitoringPort) return { xdsPort: j.xdsPort, monitoringPort: j.monitoringPort };
    } catch {
      // a partial line: wait for more output
    }
  }
  return undefined;
}

export async function startWeftServe(opts: { configDir: string; extraArgs?: string[]; timeoutMs?: number }): Promise<WeftServe> {
  const args = [weftBin, 'serve', '--config-dir', opts.configDir, '--xds-address', '127.0.0.1:0'];
  args.push('--monitoring-address', '127.0.0.1:0', ...(opts.extraArgs ?? []));
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WEFT_LOG_LEVEL: process.env.WEFT_LOG_LEVEL ?? 'info', VITEST: '' },
  });
  running.add(child);
  let out = '';
  let ports: ReturnType<typeof readyPorts>;
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-65536);
    ports ??= readyPorts(out);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  while (!ports) {
    if (child.exitCode !== null || child.signalCode !== null) {
      running.delete(child);
      throw new Error(`weft serve exited (${child.exitCode ?? child.signalCode}) before listening:\n${out}`);
    }
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`weft serve printed no ready line in time:\n${out}`);
    }
    await sleep(100);
  }
  return {
    xdsAddress: `127.0.0.1:${ports.xdsPort}`,
    monitoringUrl: `http://127.0.0.1:${ports.monitoringPort}`,
    output: () => out,
    stop: () => stopChild(child),
  };
}
