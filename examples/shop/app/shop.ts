#!/usr/bin/env node
// The shop demo's one program, run by Node 24 from the weft image (no install step):
//   node shop.ts serve [--version v1] [--port 8080] [--admin-port 8081] [--fail-percent 0]
//   node shop.ts load --url URL [--count N | --duration SECONDS] [--rate 50] [--concurrency 4] [--timeout-ms 5000]
//   node shop.ts fail PERCENT [--admin-port 8081]      (inside a checkout Pod: kubectl exec)
// serve also reads VERSION, PORT and FAIL_PERCENT from the environment (flags win).
// examples/shop/README.md shows it in a cluster.
import { parseArgs } from 'node:util';
import { runLoad } from './load.ts';
import { serveCheckout } from './serve.ts';

function usage(msg: string): never {
  console.error(`shop: ${msg}\nusage: node shop.ts serve|load|fail … (see the header of examples/shop/app/shop.ts)`);
  process.exit(2);
}

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) usage(`${name}: "${raw}" is not an integer in [${min}, ${max}]`);
  return n;
}

function parse(args: string[], options: Record<string, { type: 'string' }>): { values: Record<string, string | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | undefined>, positionals: r.positionals };
  } catch (e) {
    usage((e as Error).message);
  }
}

const [command, ...rest] = process.argv.slice(2);
const str = { type: 'string' } as const;

if (command === 'serve') {
  const { values: v } = parse(rest, { version: str, port: str, 'admin-port': str, 'fail-percent': str });
  const checkout = await serveCheckout({
    version: v.version ?? process.env.VERSION ?? 'v1',
    port: int('--port', v.port ?? process.env.PORT, 8080, 1, 65535),
    adminPort: int('--admin-port', v['admin-port'], 8081, 1, 65535),
    failPercent: int('--fail-percent', v['fail-percent'] ?? process.env.FAIL_PERCENT, 0, 0, 100),
    shutdownMs: 10_000,
  });
  console.log(JSON.stringify({ msg: 'checkout listening', port: checkout.port, adminPort: checkout.adminPort, failPercent: checkout.failPercent }));
  process.once('SIGTERM', () => {
    console.log(JSON.stringify({ msg: 'SIGTERM: closing', ...checkout.counts }));
    void checkout.shutdown().then(() => process.exit(0));
  });
} else if (command === 'load') {
  const { values: v } = parse(rest, { url: str, count: str, duration: str, rate: str, concurrency: str, 'timeout-ms': str });
  if (!v.url) usage('load needs --url');
  const stop = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
  const count = v.count === undefined ? undefined : int('--count', v.count, 0, 1, 10_000_000);
  const seconds = v.duration === undefined ? undefined : int('--duration', v.duration, 0, 1, 86_400);
  await runLoad(
    {
      url: v.url,
      ...(count === undefined ? {} : { count }),
      ...(seconds === undefined ? {} : { durationMs: seconds * 1000 }),
      rate: int('--rate', v.rate, 50, 1, 10_000),
      concurrency: int('--concurrency', v.concurrency, 4, 1, 256),
      timeoutMs: int('--timeout-ms', v['timeout-ms'], 5000, 1, 600_000),
      out: (line) => process.stdout.write(`${line}\n`),
    },
    stop.signal,
  );
} else if (command === 'fail') {
  const { values: v, positionals } = parse(rest, { 'admin-port': str });
  const percent = int('PERCENT', positionals[0], -1, 0, 100);
  if (percent < 0) usage('fail needs PERCENT');
  const port = int('--admin-port', v['admin-port'], 8081, 1, 65535);
  const res = await fetch(`http://127.0.0.1:${port}/fail?percent=${percent}`, { method: 'PUT', signal: AbortSignal.timeout(5000) });
  process.stdout.write(await res.text());
  process.exitCode = res.ok ? 0 : 1;
} else {
  usage(command ? `unknown command "${command}"` : 'no command');
}
