// Requests for the rate limit and fault tests: through a meshed client's explicit HTTP proxy
// (absolute-form URL, as `curl -x` sends), with keep-alive so the figures measure Envoy, not
// connection setup. Each request resolves to what the caller saw, never throws.
import { Agent, request } from 'node:http';

export interface Seen {
  readonly status: number; // 0: the request failed
  readonly retryAfter?: string;
  readonly ms: number;
  readonly error?: string;
}

export function proxyClient(proxyPort: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const send = (url: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Seen> => {
    const t0 = performance.now();
    return new Promise((resolve) => {
      const req = request(
        { host: '127.0.0.1', port: proxyPort, method: opts.method ?? 'GET', path: url, headers: { host: new URL(url).host, ...opts.headers }, agent },
        (res) => {
          res.resume();
          res.on('end', () => {
            const retryAfter = res.headers['retry-after'];
            resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, ...(retryAfter ? { retryAfter: String(retryAfter) } : {}) });
          });
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve({ status: 0, ms: performance.now() - t0, error: e.message }));
      req.end();
    });
  };
  return { send, close: () => agent.destroy() };
}

/** Open loop: one request every 1000/rate ms for `seconds`, whatever the answers take. */
export async function paced(rate: number, seconds: number, one: () => Promise<Seen>): Promise<Seen[]> {
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const pending: Promise<Seen>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(one());
  }
  return Promise.all(pending);
}

/** Concurrency-bounded closed loop for `total` requests. */
export async function batch(total: number, concurrency: number, one: (i: number) => Promise<Seen>): Promise<Seen[]> {
  const out: Seen[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) out.push(await one(next++));
    }),
  );
  return out;
}

export function countBy(seen: readonly Seen[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of seen) out[String(s.status)] = (out[String(s.status)] ?? 0) + 1;
  return out;
}
