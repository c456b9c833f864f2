#!/usr/bin/env node
// The shop demo's one program, run by Node 24 from the weft image (no install step):
//   node shop.ts serve [--version v1] [--port 8080] [--admin-port 8081] [--fail-percent 0]
//   node shop.ts load --url URL [--count N | --duration SECONDS | --until-eof] [--rate 50] [--concurrency 4] [--timeout-ms 5000]
//        (--until-eof: until stdin closes, so a test stops it exactly: `kubectl exec -i … load --until-eof`)
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

function parse(
  args: string[],
  options: Record<string, { type: 'string' | 'boolean' }>,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: r.values, positionals: r.positionals };
  } catch (e) {
    usage((e as Error).message);
  }
}

const [command, ...rest] = process.argv.slice(2);
const str = { type: 'string' } as const;
const text = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

if (command === 'serve') {
  const { values: v } = parse(rest, { version: str, port: str, 'admin-port': str, 'fail-percent': str });
  const checkout = await serveCheckout({
    version: text(v.version) ?? process.env.VERSION ?? 'v1',
    port: int('--port', text(v.port) ?? process.env.PORT, 8080, 1, 65535),
    adminPort: int('--admin-port', text(v['admin-port']), 8081, 1, 65535),
    failPercent: int('--fail-percent', text(v['fail-percent']) ?? process.env.FAIL_PERCENT, 0, 0, 100),
    shutdownMs: 10_000,
  });
  const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  say({ msg: 'checkout listening', port: checkout.port, adminPort: checkout.adminPort, failPercent: checkout.failPercent });
  process.once('SIGTERM', () => {
    say({ msg: 'SIGTERM: closing', ...checkout.counts });
    void checkout.shutdown().then(() => process.exit(0));
  });
} else if (command === 'load') {
  const { values: v } = parse(rest, { url: str, count: str, duration: str, 'until-eof': { type: 'boolean' }, rate: str, concurrency: str, 'timeout-ms': str });
  const url = text(v.url);
  if (!url) usage('load needs --url');
  const stop = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
  if (v['until-eof'] === true) {
    process.stdin.on('end', () => stop.abort()).resume();
  }
  const count = v.count === undefined ? undefined : int('--count', text(v.count), 0, 1, 10_000_000);
  const seconds = v.duration === undefined ? undefined : int('--duration', text(v.duration), 0, 1, 86_400);
  await runLoad(
    {
      url,
      ...(count === undefined ? {} : { count }),
      ...(seconds === undefined ? {} : { durationMs: seconds * 1000 }),
      rate: int('--rate', text(v.rate), 50, 1, 10_000),
      concurrency: int('--concurrency', text(v.concurrency), 4, 1, 256),
      timeoutMs: int('--timeout-ms', text(v['timeout-ms']), 5000, 1, 600_000),
      out: (line) => process.stdout.write(`${line}\n`),
    },
    stop.signal,
  );
  process.exit(0); // stdin (--until-eof) would keep the process alive
} else if (command === 'fail') {
  const { values: v, positionals } = parse(rest, { 'admin-port': str });
  const percent = int('PERCENT', positionals[0], -1, 0, 100);
  if (percent < 0) usage('fail needs PERCENT');
  const port = int('--admin-port', text(v['admin-port']), 8081, 1, 65535);
  const res = await fetch(`http://127.0.0.1:${port}/fail?percent=${percent}`, { method: 'PUT', signal: AbortSignal.timeout(5000) });
  process.stdout.write(await res.text());
  process.exitCode = res.ok ? 0 : 1;
} else {
  usage(command ? `unknown command "${command}"` : 'no command');
}
