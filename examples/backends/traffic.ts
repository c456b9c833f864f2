#!/usr/bin/env node
// Demo traffic: sends requests for checkout through Envoy (as an HTTP proxy) and prints the
// observed split once a second — requests, % v1, % v2 over the last second and in total.
//   node examples/backends/traffic.ts [--proxy 127.0.0.1:15001] [--url http://checkout.shop:8080/]
//                                     [--seconds 30] [--rps 200]
import { parseArgs } from 'node:util';
import { emptyLoadResult, sendThroughProxy, type LoadResult } from './proxy-load.ts';

const { values } = parseArgs({
  options: {
    proxy: { type: 'string', default: '127.0.0.1:15001' },
    url: { type: 'string', default: 'http://checkout.shop:8080/' },
    seconds: { type: 'string', default: '30' },
    rps: { type: 'string', default: '200' },
  },
});
const proxyPort = Number(values.proxy.slice(values.proxy.lastIndexOf(':') + 1));
const seconds = Number(values.seconds);
const rps = Number(values.rps);
if (!proxyPort || !(seconds > 0) || !(rps > 0)) {
  console.error('traffic: --proxy HOST:PORT, --seconds N and --rps N must be positive numbers');
  process.exit(2);
}

const live = emptyLoadResult();
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());
setTimeout(() => stop.abort(), seconds * 1000).unref();

const pct = (part: number, whole: number) => (whole === 0 ? '   -  ' : `${((100 * part) / whole).toFixed(1).padStart(5)}%`);
function line(label: string, now: LoadResult, before: { ok: number; v1: number; v2: number; total: number }): string {
  const v1 = (now.byBackend.get('v1') ?? 0) - before.v1;
  const v2 = (now.byBackend.get('v2') ?? 0) - before.v2;
  const ok = now.ok - before.ok;
  const failed = now.total - before.total - ok;
  return `${label}  requests ${String(now.total - before.total).padStart(6)}  v1 ${pct(v1, ok)}  v2 ${pct(v2, ok)}  failed ${failed}`;
}

const zero = { ok: 0, v1: 0, v2: 0, total: 0 };
let prev = { ...zero };
let tick = 0;
const timer = setInterval(() => {
  tick += 1;
  process.stdout.write(`${line(`[${String(tick).padStart(3)}s]`, live, prev)}   (total ${line('', live, zero).trim()})\n`);
  prev = { ok: live.ok, v1: live.byBackend.get('v1') ?? 0, v2: live.byBackend.get('v2') ?? 0, total: live.total };
}, 1000);

await sendThroughProxy({ proxyPort, url: values.url, requests: Infinity, signal: stop.signal, maxRps: rps, concurrency: 4, into: live });
clearInterval(timer);
process.stdout.write(`${line('[total]', live, zero)}  in ${(live.elapsedMs / 1000).toFixed(1)} s\n`);
