// The Go side of `npm run bench -- peer`: builds bench/peer (a go-control-plane v0.14 server
// and a load generator in one binary) on first use, from the Go module proxy, into
// $WEFT_CACHE/peer-bench/<hash of its sources>/peer; later runs reuse it. And a line protocol
// to the processes it runs (stdin commands, stdout lines, JSON where it answers).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const SRC = fileURLToPath(new URL('../peer/', import.meta.url));

export function peerBinary(): string {
  const files = readdirSync(SRC)
    .filter((f) => /\.(go|mod|sum)$/.test(f))
    .sort();
  const hash = createHash('sha256');
  for (const f of files) hash.update(f).update(readFileSync(join(SRC, f)));
  const dir = join(process.env.WEFT_CACHE ?? join(homedir(), '.cache', 'weft'), 'peer-bench', hash.digest('hex').slice(0, 16));
  const bin = join(dir, 'peer');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  console.log(`building the peer (go-control-plane v0.14 + load generator) into ${dir}; the first build downloads modules and takes minutes`);
  const r = spawnSync('go', ['build', '-o', `${bin}.tmp`, '.'], { cwd: SRC, stdio: 'inherit', env: { ...process.env, GOFLAGS: '-mod=readonly' } });
  if (r.status !== 0) throw new Error(`go build of bench/peer failed (${r.error?.message ?? `exit ${r.status}`}); is Go ≥ 1.26 (bench/peer/go.mod) installed?`);
  renameSync(`${bin}.tmp`, bin);
  return bin;
}

/** taskset works here (present, and allowed to read affinities). */
export function canPin(): boolean {
  return spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/** Pins a process (all its threads) to one CPU when taskset exists and the machine has it; says whether it did. */
export function pin(pid: number, cpus: string): boolean {
  const r = spawnSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
  return r.status === 0;
}

/** RSS of a process from /proc (bytes), no collection forced: the same measure for both servers. */
export function rssOf(pid: number): number {
  return statusBytes(pid, 'VmRSS');
}

/**
 * The anonymous part of it (heaps, stacks, runtime): RSS less the pages of mapped files, which
 * for node are ≈ 50 MiB of its own binary against the Go binary's 16 (docs/scale.md "Idle memory").
 */
export function rssAnonOf(pid: number): number {
  return statusBytes(pid, 'RssAnon');
}

/** The most RSS the process has had (VmHWM). */
export function peakRssOf(pid: number): number {
  return statusBytes(pid, 'VmHWM');
}

function statusBytes(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** CPU time (user + system) a process has used, in ms, from /proc (clock ticks of 10 ms). */
export function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // utime, stime (fields 14 and 15)
}

/** Machine-wide CPU time (ms, all CPUs) spent idle and in softirq (the kernel's loopback TCP work lands there), from /proc/stat. */
export function machineCpu(): { idle: number; softirq: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: ((f[3] ?? 0) + (f[4] ?? 0)) * 10, softirq: (f[6] ?? 0) * 10 }; // idle + iowait; softirq
}

export class GoProc {
  readonly proc: ChildProcess;
  readonly #lines: string[] = [];
  #wake: (() => void) | undefined;
  #exited = false;

  constructor(bin: string, args: string[], env: Record<string, string> = {}) {
    this.proc = spawn(bin, args, { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      this.#lines.push(l);
      this.#wake?.();
    });
    this.proc.on('exit', () => {
      this.#exited = true;
      this.#wake?.();
    });
    process.once('exit', () => this.proc.kill('SIGKILL'));
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  send(line: string): void {
    this.proc.stdin!.write(`${line}\n`);
  }

  /** The next line that `match` accepts (earlier lines are dropped). */
  async line(match: (l: string) => boolean, what: string): Promise<string> {
    for (;;) {
      const i = this.#lines.findIndex(match);
      if (i >= 0) return this.#lines.splice(0, i + 1).at(-1)!;
      if (this.#exited) throw new Error(`peer process exited while waiting for ${what}`);
      await new Promise<void>((r) => (this.#wake = r));
    }
  }

  async event<T>(name: string): Promise<T> {
    const l = await this.line((x) => x.startsWith('{') && (JSON.parse(x) as { event?: string }).event === name, name);
    return JSON.parse(l) as T;
  }

  stop(): void {
    this.proc.stdin!.end();
    this.proc.kill('SIGTERM');
  }
}
