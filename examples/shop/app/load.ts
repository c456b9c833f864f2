// The shop's client: requests one URL at a bounded rate from a few concurrent workers and
// reports, every second, how many answers came from each version and how many failed (one
// JSON line on stdout), then a summary line. Bounded by --count or --duration; without
// either it runs until SIGTERM (the demo's client Deployment), and prints the summary then.
//
// An answer counts for its version when it is a 200 whose JSON body names one
// (examples/shop/app/serve.ts); anything else is an error: `http_<status>` for another
// status, the socket error's code (ECONNRESET, ECONNREFUSED, …) or `timeout`.
import { setTimeout as sleep } from 'node:timers/promises';

export interface LoadOptions {
  readonly url: string;
  /** Stop after this many requests. */
  readonly count?: number;
  /** Stop after this many milliseconds. */
  readonly durationMs?: number;
  /** Requests per second, at most (all workers together). */
  readonly rate: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** Called with every report line (per-second and summary). */
  readonly out: (line: string) => void;
}

export interface Tally {
  requests: number;
  ok: Record<string, number>;
  errors: Record<string, number>;
}

export interface Summary extends Tally {
  readonly summary: true;
  readonly seconds: number;
  /** The first few failures with their time, to line them up with what a test did. */
  readonly firstErrors: { t: string; error: string }[];
}

const emptyTally = (): Tally => ({ requests: 0, ok: {}, errors: {} });
const bump = (m: Record<string, number>, k: string): void => void (m[k] = (m[k] ?? 0) + 1);

function errorKind(e: unknown): string {
  if (e instanceof Error) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timeout';
    const cause = (e as { cause?: { code?: unknown } }).cause;
    if (cause && typeof cause.code === 'string') return cause.code;
    return e.name;
  }
  return 'unknown';
}

async function once(url: string, timeoutMs: number): Promise<{ version?: string; error?: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (res.status !== 200) return { error: `http_${res.status}` };
    const version: unknown = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? { version } : { error: 'no_version' };
  } catch (e) {
    return { error: errorKind(e) };
  }
}

export async function runLoad(opts: LoadOptions, stop: AbortSignal): Promise<Summary> {
  const started = performance.now();
  const deadline = opts.durationMs === undefined ? Infinity : started + opts.durationMs;
  const interval = 1000 / opts.rate;
  const total = emptyTally();
  let second = emptyTally();
  const firstErrors: Summary['firstErrors'] = [];
  let issued = 0;
  let next = started;
  const done = () => stop.aborted || issued >= (opts.count ?? Infinity) || performance.now() >= deadline;

  const record = (r: { version?: string; error?: string }) => {
    for (const t of [total, second]) {
      t.requests += 1;
      if (r.version !== undefined) bump(t.ok, r.version);
      else bump(t.errors, r.error ?? 'unknown');
    }
    if (r.error !== undefined && firstErrors.length < 10) firstErrors.push({ t: new Date().toISOString(), error: r.error });
  };
  const report = setInterval(() => {
    opts.out(JSON.stringify({ t: new Date().toISOString(), ...second }));
    second = emptyTally();
  }, 1000);

  const worker = async () => {
    while (!done()) {
      const now = performance.now();
      const at = Math.max(next, now);
      next = at + interval;
      if (at > now) await sleep(at - now);
      if (done()) break;
      issued += 1;
      record(await once(opts.url, opts.timeoutMs));
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    clearInterval(report);
  }
  const summary: Summary = { summary: true, ...total, seconds: Math.round(performance.now() - started) / 1000, firstErrors };
  opts.out(JSON.stringify(summary));
  return summary;
}
