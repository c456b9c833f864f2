// Sends requests through Envoy used as an explicit HTTP proxy (absolute-form request line,
// as curl -x does) and tallies who answered. Bounded by a count or an AbortSignal. Used by
// the demo's live traffic printer (traffic.ts) and the end-to-end tests.
import { Agent, request } from 'node:http';

export interface LoadOptions {
  /** Envoy's outbound listener on 127.0.0.1. */
  proxyPort: number;
  /** Absolute URL, e.g. http://checkout.shop:8080/ */
  url: string;
  /** How many requests to send (Infinity: until `signal` aborts). */
  requests: number;
  signal?: AbortSignal;
  /** Upper bound on request rate, per second (default unbounded). */
  maxRps?: number;
  /** Tally into this object (read it live while the load runs); default a new one. */
  into?: LoadResult;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  /** Per-request timeout (default 10 s: retries with backoff can take a while). */
  timeoutMs?: number;
}

export interface LoadResult {
  total: number;
  /** 2xx answers by the x-backend header the demo backend sets ('?' if absent). */
  byBackend: Map<string, number>;
  byStatus: Map<number, number>;
  /** Transport errors (connection refused, reset, timeout): never silently dropped. */
  errors: number;
  ok: number;
  elapsedMs: number;
}

/** Share of successful answers that came from `backend`, in percent. */
export function percentOf(r: LoadResult, backend: string): number {
  return r.ok === 0 ? 0 : (100 * (r.byBackend.get(backend) ?? 0)) / r.ok;
}

export function emptyLoadResult(): LoadResult {
  return { total: 0, byBackend: new Map(), byStatus: new Map(), errors: 0, ok: 0, elapsedMs: 0 };
}

export async function sendThroughProxy(opts: LoadOptions): Promise<LoadResult> {
  const target = new URL(opts.url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency ?? 8 });
  const result = opts.into ?? emptyLoadResult();
  const started = performance.now();
  let next = 0;

  const one = () =>
    new Promise<void>((resolve) => {
      const req = request(
        {
          agent,
          host: '127.0.0.1',
          port: opts.proxyPort,
          method: 'GET',
          path: target.href,
          headers: { host: target.host },
          timeout: opts.timeoutMs ?? 10_000,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            result.byStatus.set(status, (result.byStatus.get(status) ?? 0) + 1);
            if (status >= 200 && status < 300) {
              result.ok += 1;
              const who = String(res.headers['x-backend'] ?? '?');
              result.byBackend.set(who, (result.byBackend.get(who) ?? 0) + 1);
            }
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        result.errors += 1;
        resolve();
      });
      req.end();
    });

  const worker = async () => {
    while (next < opts.requests && !opts.signal?.aborted) {
      next += 1;
      if (opts.maxRps) {
        // Request n may start no earlier than n/maxRps seconds after the start.
        const due = started + ((next - 1) * 1000) / opts.maxRps - performance.now();
        if (due > 0) await new Promise((r) => setTimeout(r, due));
      }
      await one();
      result.total += 1;
      result.elapsedMs = performance.now() - started;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  agent.destroy();
  result.elapsedMs = performance.now() - started;
  return result;
}
