// Drives a real Envoy for tests: writes the bootstrap, starts the binary so several can run
// at once (no hot restart, admin on a kernel-chosen port), waits for admin, reads stats and
// config dumps, and always kills it — on stop(), after the test file, or when the worker exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { envoyBinary } from './envoy-binary.ts';

export interface StartEnvoyOptions {
  bootstrapYaml: string;
  /** Envoy's -l level (default warning; the log file is kept for diagnosis). */
  logLevel?: 'trace' | 'debug' | 'info' | 'warning' | 'error';
  /**
   * 'ready' (default): wait until admin /ready answers 200, i.e. Envoy is LIVE (it has its
   * initial CDS/LDS; Weft's bootstraps set no initial fetch timeout, so without an xDS
   * server it never gets there). 'admin': wait only for the admin listener, for tests
   * about an Envoy that cannot reach its xDS server.
   */
  waitFor?: 'ready' | 'admin';
  /** How long to wait (default 60 s: the CPU here is shared with compilers). */
  timeoutMs?: number;
}

export interface EnvoyHandle {
  readonly adminUrl: string;
  readonly adminPort: number;
  readonly pid: number;
  readonly logPath: string;
  /** Counters and gauges, by full name; filter is Envoy's regex filter. */
  stats(filter?: string): Promise<Map<string, number>>;
  configDump(): Promise<unknown>;
  /** GET an admin path (e.g. '/clusters'), returning the body text. */
  admin(path: string): Promise<string>;
  logs(): Promise<string>;
  /** What Envoy wrote to stdout (access logs), the last 4 MB. */
  stdout(): string;
  stop(): Promise<void>;
}

const running = new Set<{ child: ChildProcess; stop: () => Promise<void> }>();

// A test that throws before stop() must not leave Envoy running (it holds ports and CPU).
afterAll(async () => {
  await Promise.all([...running].map((r) => r.stop()));
});
process.once('exit', () => {
  for (const r of running) r.child.kill('SIGKILL');
});

/** The admin port is forced to 0: a fixed port would collide between parallel Envoys. */
function withEphemeralAdmin(bootstrapYaml: string): string {
  const doc = parseYaml(bootstrapYaml) as { admin?: { address?: { socket_address?: { port_value?: number } } } };
  const sa = doc.admin?.address?.socket_address;
  if (!sa) throw new Error('bootstrap has no admin.address.socket_address (snake_case, as renderBootstrap writes it)');
  sa.port_value = 0;
  return stringifyYaml(doc, { lineWidth: 0 });
}

export async function startEnvoy(opts: StartEnvoyOptions): Promise<EnvoyHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-envoy-'));
  const configPath = join(dir, 'bootstrap.yaml');
  const adminPath = join(dir, 'admin-address');
  const logPath = join(dir, 'envoy.log');
  await writeFile(configPath, withEphemeralAdmin(opts.bootstrapYaml));

  const args = ['-c', configPath, '--disable-hot-restart', '--concurrency', '1', '--admin-address-path', adminPath];
  args.push('--log-path', logPath, '-l', opts.logLevel ?? 'warning');
  const child = spawn(envoyBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-4_000_000)));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let exited: number | null | undefined;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = code ?? (signal ? -1 : null);
      resolve();
    }),
  );

  const entry = {
    child,
    stop: async () => {
      running.delete(entry);
      if (exited === undefined) {
        child.kill('SIGTERM');
        const killed = await Promise.race([exitPromise.then(() => true), sleep(5000).then(() => false)]);
        if (!killed) {
          child.kill('SIGKILL');
          await exitPromise;
        }
      }
      if (!process.env.WEFT_KEEP_ENVOY) await rm(dir, { recursive: true, force: true });
    },
  };
  running.add(entry);

  const fail = async (why: string): Promise<never> => {
    const log = existsSync(logPath) ? (await readFile(logPath, 'utf8')).slice(-3000) : '';
    await entry.stop();
    throw new Error(`envoy ${why}\n--- stderr ---\n${stderr}\n--- log tail ---\n${log}`);
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let adminPort = 0;
  while (!adminPort) {
    if (exited !== undefined) return fail(`exited with ${exited} before admin came up`);
    if (Date.now() > deadline) return fail('admin did not come up in time');
    if (existsSync(adminPath)) {
      const addr = (await readFile(adminPath, 'utf8')).trim();
      adminPort = Number(addr.slice(addr.lastIndexOf(':') + 1)) || 0;
    }
    if (!adminPort) await sleep(50);
  }
  const adminUrl = `http://127.0.0.1:${adminPort}`;

  const admin = async (path: string, init?: RequestInit): Promise<string> => {
    const res = await fetch(adminUrl + path, init);
    const body = await res.text();
    if (!res.ok) throw new Error(`envoy admin ${path}: ${res.status} ${body.slice(0, 200)}`);
    return body;
  };

  if ((opts.waitFor ?? 'ready') === 'ready') {
    for (;;) {
      if (exited !== undefined) return fail(`exited with ${exited} before it was ready`);
      if (Date.now() > deadline) return fail('was not ready in time (is the xDS server answering?)');
      const ok = await fetch(`${adminUrl}/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await sleep(100);
    }
  }

  return {
    adminUrl,
    adminPort,
    pid: child.pid ?? 0,
    logPath,
    admin: (path) => admin(path),
    async stats(filter) {
      const q = filter ? `&filter=${encodeURIComponent(filter)}` : '';
      const doc = JSON.parse(await admin(`/stats?format=json${q}`)) as { stats?: Array<{ name?: string; value?: number }> };
      const out = new Map<string, number>();
      // Histogram entries have no name/value pair; counters and gauges do.
      for (const s of doc.stats ?? []) if (s.name !== undefined && typeof s.value === 'number') out.set(s.name, s.value);
      return out;
    },
    async configDump() {
      return JSON.parse(await admin('/config_dump')) as unknown;
    },
    logs: async () => (existsSync(logPath) ? readFile(logPath, 'utf8') : ''),
    stdout: () => stdout,
    stop: entry.stop,
  };
}

/** `envoy --mode validate`: Envoy parses the bootstrap and checks every static resource, then exits. */
export async function validateBootstrap(bootstrapYaml: string): Promise<{ code: number | null; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-envoy-validate-'));
  try {
    const configPath = join(dir, 'bootstrap.yaml');
    await writeFile(configPath, bootstrapYaml);
    const child = spawn(envoyBinary(), ['--mode', 'validate', '-c', configPath, '--disable-hot-restart', '-l', 'warning'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    return { code, output };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
