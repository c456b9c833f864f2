// The demo backend: answers `200 <name>` and, when asked to fail, 503 for a deterministic
// 30 % of requests spread out so no two in a row fail (request n fails when (n*7) % 10 < 3,
// i.e. n ≡ 0, 3, 6 mod 10). Deterministic so retry tests give the same numbers every run.
// Used by the demo script (examples/backends/backend.ts) and the tests (test/support/backends.ts).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** true: the 30 % pattern above; a function: fail request n (1-based) when it returns true. */
export type FailPattern = boolean | ((n: number) => boolean);

export const thirtyPercent = (n: number): boolean => (n * 7) % 10 < 3;

export interface BackendOptions {
  name: string;
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  port?: number;
  failPattern?: FailPattern;
}

export interface Backend {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  /** Requests answered so far (successes and failures). */
  readonly requests: number;
  readonly failures: number;
  /** Change failing behaviour at run time (counting continues). */
  setFailPattern(p: FailPattern | undefined): void;
  /** Zero the counters, e.g. between phases of a test. */
  resetCounts(): void;
  stop(): Promise<void>;
}

function toPredicate(p: FailPattern | undefined): (n: number) => boolean {
  if (typeof p === 'function') return p;
  return p ? thirtyPercent : () => false;
}

export async function startBackend(opts: BackendOptions): Promise<Backend> {
  let fails = toPredicate(opts.failPattern);
  let requests = 0;
  let failures = 0;
  const server: Server = createServer((req, res) => {
    requests += 1;
    // Drain the body so keep-alive connections stay usable for the proxy's pool.
    req.resume();
    const failing = fails(requests);
    if (failing) failures += 1;
    const body = failing ? `${opts.name} failing\n` : `${opts.name}\n`;
    res.writeHead(failing ? 503 : 200, {
      'content-type': 'text/plain',
      'content-length': Buffer.byteLength(body),
      'x-backend': opts.name,
    });
    res.end(body);
  });
  // Envoy keeps upstream connections open for an hour; node's 5 s default would close them
  // under it and turn the race into spurious 503s that have nothing to do with the test.
  server.keepAliveTimeout = 300_000;
  server.headersTimeout = 301_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    name: opts.name,
    port,
    url: `http://127.0.0.1:${port}/`,
    get requests() {
      return requests;
    },
    get failures() {
      return failures;
    },
    setFailPattern(p) {
      fails = toPredicate(p);
    },
    resetCounts() {
      requests = 0;
      failures = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
