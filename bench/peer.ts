// `npm run bench -- peer [--proxies N] [--rounds R] [--modes sotw,delta]`: Weft side by side
// with go-control-plane v0.14 (issue 11). The same Go load generator (one TCP connection and
// one ADS stream per simulated sidecar, subscribing as Envoy does) runs against each server in
// turn; the peer is fed what Weft serves each proxy group (bench/support/capture.ts), state by
// state. Each server and the load generator are pinned to their own core when taskset and two
// cores exist (said in the output). Figures, both sides and the ratio Weft/peer (< 1: Weft ahead):
//   initial sync      connect N proxies until each ACKed CDS, EDS, LDS and RDS; connection attempts
//   split flip        change → the last proxy's ACK of the new routes (Weft's includes its 100 ms
//                     source debounce; the peer's snapshot is set at once)
//   endpoint add      the same for one more endpoint (EDS)
//   reconnect storm   every connection dropped at once and redialled: proxies resynced per second
//   RSS               idle (model loaded, no proxy; and its anonymous part), per connected stream, and the
//                     run's peak (VmHWM), from /proc, no forced GC
//   CPU per ACK       every proxy repeats its last request of each type (an ACK: same nonce, same
//                     names) 5 times; the server's CPU from /proc until it is idle again, per request.
//                     --full-decode: Weft decodes every request with protobuf-es (before issue 11 item 4)
// --deployed adds Weft as deployed (support/deployed.ts: TLS from a mesh CA, a ServiceAccount
// token per proxy, SDS certificates), printed after the plaintext figures; --weft-only skips the
// peer; --cores 2 gives the servers and the load generator both cores; --xds-workers N.
// Prints figures only; never fails on timing.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { captureStates } from './support/capture.ts';
import { Child } from './support/child.ts';
import { kib, mib, ms, percentile } from './support/figures.ts';
import { canPin, cpuOf, GoProc, machineCpu, peakRssOf, peerBinary, pin, rssAnonOf, rssOf } from './support/go-peer.ts';
import { DEFAULT_SHAPE, mutationTypeUrl, type Mutation } from './support/mesh.ts';
import type { ServerReply, ServerRequest } from './support/protocol.ts';
import { mintTokens, type DeployedIdentity } from './support/deployed.ts';
import { imageNodeFlags, prestripCheckout } from './support/weft-image.ts';

type Busy = [server: number, load: number, idle: number, softirq: number];

interface Figures {
  idleRss: number;
  /** Of idleRss, what is not mapped from files (the runtime's binary above all). */
  idleAnon: number;
  /** The most RSS the server had during the run (sync, repeated ACKs, pushes, storm): what a memory limit must allow. */
  peakRss: number;
  rssPerStream: number;
  syncMs: number;
  /** When 50 / 90 / 99 % of the proxies had synced (ms from the start): a long tail or a steady rate. */
  syncPct: readonly number[];
  attemptsPerProxy: number;
  synced: number;
  flips: number[]; // change → last ACK, ms
  flipP90: number[];
  adds: number[];
  addP90: number[];
  /** change → the first proxy's ACK (split flip, endpoint add): the fixed cost before per-stream work. */
  firstAcks: [number[], number[]];
  stormPerSecond: number;
  ackCpuUs: number;
  missing: number;
  /** Cores used during a phase by the server and the load generator, and the machine's idle and softirq cores: who limited it. */
  busy: Record<string, Busy>;
}

interface Server {
  readonly port: number;
  readonly pid: number;
  /** Applies the k-th mutation; returns when it was made (epoch ms). */
  mutate(k: number, m: Mutation): Promise<number>;
  stop(): Promise<void>;
}

const settle = (t: number) => new Promise((r) => setTimeout(r, t));

async function startWeft(fullDecode: boolean, xdsWorkers: number, nodeFlags: string, deployed?: DeployedIdentity): Promise<Server> {
  const child = new Child<ServerRequest, ServerReply>('weft', new URL('./support/server.ts', import.meta.url), {
    env: { WEFT_LOG_LEVEL: 'warn' },
    execArgv: nodeFlags.split(' ').filter((f) => f !== ''),
  });
  const { port } = await child.request(
    { cmd: 'start', shape: DEFAULT_SHAPE, debounceStages: 1, fullDecode, xdsWorkers, ...(deployed !== undefined ? { deployed } : {}) },
    'started',
  );
  return {
    port,
    pid: child.pid,
    mutate: async (_k, m) => (await child.request({ cmd: 'mutate', mutation: m }, 'mutated')).at,
    stop: async () => {
      await child.request({ cmd: 'stop' }, 'stopped').catch(() => undefined);
      await child.stop(10_000);
    },
  };
}

async function startPeer(bin: string, dir: string, cores: number): Promise<Server> {
  const p = new GoProc(bin, ['serve', '-addr', '127.0.0.1:0', '-dir', dir], { GOMAXPROCS: String(cores) });
  const port = Number((await p.line((l) => l.startsWith('listening '), 'listening')).split(' ')[1]);
  p.send('load v0');
  await p.line((l) => l === 'loaded' || l.startsWith('error'), 'the first snapshot');
  return {
    port,
    pid: p.pid,
    mutate: async (k) => {
      const at = Date.now();
      p.send(`load v${k}`);
      const r = await p.line((l) => l === 'loaded' || l.startsWith('error'), `snapshot v${k}`);
      if (r !== 'loaded') throw new Error(`peer: ${r}`);
      return at;
    },
    stop: () => {
      p.stop();
      return Promise.resolve();
    },
  };
}

async function measure(
  server: Server,
  bin: string,
  mode: string,
  n: number,
  mutations: readonly Mutation[],
  pinned: boolean,
  cores: number,
  loadArgs: readonly string[] = [],
): Promise<Figures> {
  // One core: the server on CPU 0, the load generator on CPU 1. Two: everything on both.
  const serverCpus = cores === 1 ? '0' : '0,1';
  if (pinned) pin(server.pid, serverCpus);
  await settle(1000);
  const idleRss = rssOf(server.pid);
  const idleAnon = rssAnonOf(server.pid);
  const load = new GoProc(
    bin,
    [
      'load',
      '-addr',
      `127.0.0.1:${server.port}`,
      '-mode',
      mode,
      '-namespaces',
      String(DEFAULT_SHAPE.namespaces),
      '-services',
      String(DEFAULT_SHAPE.servicesPerNamespace),
      ...loadArgs,
    ],
    loadEnv(pinned, cores),
  );
  if (pinned) pin(load.pid, cores === 1 ? '1' : '0,1');
  const busy: Record<string, Busy> = {};
  const phase = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const [s0, l0, m0, t0] = [cpuOf(server.pid), cpuOf(load.pid), machineCpu(), performance.now()];
    const r = await run();
    const wall = performance.now() - t0;
    const m1 = machineCpu();
    const prev = busy[name];
    const now: Busy = [(cpuOf(server.pid) - s0) / wall, (cpuOf(load.pid) - l0) / wall, (m1.idle - m0.idle) / wall, (m1.softirq - m0.softirq) / wall];
    busy[name] = prev === undefined ? now : (prev.map((v, i) => Math.max(v, now[i]!)) as unknown as Busy);
    return r;
  };
  try {
    load.send(`connect 0 ${n}`);
    const sync = await phase('sync', () =>
      load.event<{ proxies: number; ms: number; attempts: number; problems: string[] | null; p50: number; p90: number; p99: number }>('synced'),
    );
    if (sync.problems?.length) console.log(`    problems: ${sync.problems.slice(0, 3).join('; ')}`);
    await settle(500);
    const rssPerStream = (rssOf(server.pid) - idleRss) / n;
    const f: Figures = {
      idleRss,
      idleAnon,
      peakRss: 0,
      rssPerStream,
      syncMs: sync.ms,
      syncPct: [sync.p50, sync.p90, sync.p99],
      attemptsPerProxy: sync.attempts / n,
      synced: sync.proxies,
      flips: [],
      flipP90: [],
      adds: [],
      addP90: [],
      firstAcks: [[], []],
      stormPerSecond: 0,
      ackCpuUs: await ackCost(server.pid, load),
      missing: 0,
      busy,
    };
    for (let k = 1; k <= mutations.length; k++) {
      const m = mutations[k - 1]!;
      load.send(`arm ${mutationTypeUrl[m]}`);
      await load.event('armed');
      const got = await phase(m, async () => {
        const at = await server.mutate(k, m);
        load.send('collect 120000');
        return { at, ...(await load.event<{ acked: number[] | null; missing: number }>('collected')) };
      });
      const at = got.at;
      const lat = (got.acked ?? []).map((t) => t - at).sort((a, b) => a - b);
      f.missing += got.missing;
      if (m === 'split') {
        f.flips.push(percentile(lat, 100));
        f.flipP90.push(percentile(lat, 90));
        f.firstAcks[0].push(percentile(lat, 0));
      } else {
        f.adds.push(percentile(lat, 100));
        f.addP90.push(percentile(lat, 90));
        f.firstAcks[1].push(percentile(lat, 0));
      }
    }
    load.send('storm');
    const storm = await phase('storm', () => load.event<{ proxies: number; ms: number }>('synced'));
    f.stormPerSecond = storm.proxies / (storm.ms / 1000);
    f.peakRss = peakRssOf(server.pid);
    load.send('quit');
    return f;
  } finally {
    load.stop();
  }
}

/**
 * Server CPU per repeated ACK (µs): from before the repeats until the server's CPU rate is back
 * to its idle rate (measured first: go-control-plane spends a few % of a core with 10k streams
 * open), minus that idle rate over the time taken.
 */
async function ackCost(pid: number, load: GoProc): Promise<number> {
  await settle(500);
  const idleFrom = cpuOf(pid);
  await settle(2000);
  const idlePerMs = (cpuOf(pid) - idleFrom) / 2000;
  const before = cpuOf(pid);
  const started = performance.now();
  load.send('reack 5');
  const { requests } = await load.event<{ requests: number }>('reacked');
  for (let last = cpuOf(pid); ;) {
    await settle(500);
    const now = cpuOf(pid);
    if (now - last <= 500 * idlePerMs * 1.5 + 10 || performance.now() - started > 120_000) {
      return ((last - before - idlePerMs * (performance.now() - 500 - started)) * 1000) / requests;
    }
    last = now;
  }
}

/**
 * The load generator's Go runtime settings. Pinned to one CPU: one P (Go sizes GOMAXPROCS from
 * the affinity at start, before taskset pins it, and ran two Ps on one CPU). GOGC 400: it
 * collects when its heap has grown by 4× the live heap instead of 1× (at 10k streams its GC was a
 * third of its CPU). Its memory is not a figure (it is not a server under test).
 */
function loadEnv(pinned: boolean, cores: number): Record<string, string> {
  return { GOGC: '400', ...(pinned && cores === 1 ? { GOMAXPROCS: '1' } : {}) };
}

const med = (v: readonly number[]) =>
  percentile(
    [...v].sort((a, b) => a - b),
    50,
  );

function print(n: number, mode: string, w: Figures, p: Figures | undefined): void {
  const row = (name: string, a: number, b: number | undefined, fmt: (v: number) => string, higherIsBetter = false) => {
    if (b === undefined) return console.log(`  ${name.padEnd(34)} ${fmt(a).padStart(14)}`);
    const ratio = higherIsBetter ? b / a : a / b;
    console.log(`  ${name.padEnd(34)} ${fmt(a).padStart(14)} ${fmt(b).padStart(14)}   ${ratio.toFixed(2)}×`);
  };
  if (p === undefined) {
    console.log(`\n${mode.toUpperCase()}, N = ${n}: ${'Weft'.padStart(48)}   (peer not run: --weft-only)`);
    row('split flip, change → last ACK', med(w.flips), undefined, ms);
    row('split flip p90 (median of rounds)', med(w.flipP90), undefined, ms);
    row('endpoint add, change → last ACK', med(w.adds), undefined, ms);
    row('endpoint add p90', med(w.addP90), undefined, ms);
    row('change → first ACK (flip / add)', med(w.firstAcks[0]), undefined, ms);
    row('', med(w.firstAcks[1]), undefined, ms);
    row('initial sync of all proxies', w.syncMs, undefined, ms);
    console.log(`  ${'  50 / 90 / 99 % synced at'.padEnd(34)} ${w.syncPct.map(ms).join(' / ').padStart(14)}`);
    console.log(`  ${'  connection attempts per proxy'.padEnd(34)} ${w.attemptsPerProxy.toFixed(2).padStart(14)}`);
    row('reconnect storm (proxies/s resynced)', w.stormPerSecond, undefined, (v) => `${Math.round(v)}/s`);
    row('RSS per stream', w.rssPerStream, undefined, kib);
    row('idle RSS', w.idleRss, undefined, mib);
    row('  of which anonymous', w.idleAnon, undefined, mib);
    row('peak RSS (sync to storm)', w.peakRss, undefined, mib);
    row('CPU per repeated ACK', w.ackCpuUs, undefined, (v) => `${v.toFixed(1)} µs`);
    if (w.missing > 0) console.log(`  MISSING ACKs: Weft ${w.missing}`);
    printBusy('Weft', w);
    return;
  }
  console.log(`\n${mode.toUpperCase()}, N = ${n}: ${'Weft'.padStart(48)} ${'peer'.padStart(14)}   Weft/peer (time or cost; < 1 = Weft ahead)`);
  row('split flip, change → last ACK', med(w.flips), med(p.flips), ms);
  row('split flip p90 (median of rounds)', med(w.flipP90), med(p.flipP90), ms);
  row('endpoint add, change → last ACK', med(w.adds), med(p.adds), ms);
  row('endpoint add p90', med(w.addP90), med(p.addP90), ms);
  row('change → first ACK (flip / add)', med(w.firstAcks[0]), med(p.firstAcks[0]), ms);
  row('', med(w.firstAcks[1]), med(p.firstAcks[1]), ms);
  row('initial sync of all proxies', w.syncMs, p.syncMs, ms);
  console.log(`  ${'  50 / 90 / 99 % synced at'.padEnd(34)} ${w.syncPct.map(ms).join(' / ').padStart(14)} ${p.syncPct.map(ms).join(' / ').padStart(14)}`);
  console.log(`  ${'  connection attempts per proxy'.padEnd(34)} ${w.attemptsPerProxy.toFixed(2).padStart(14)} ${p.attemptsPerProxy.toFixed(2).padStart(14)}`);
  row('reconnect storm (proxies/s resynced)', w.stormPerSecond, p.stormPerSecond, (v) => `${Math.round(v)}/s`, true);
  row('RSS per stream', w.rssPerStream, p.rssPerStream, kib);
  row('idle RSS', w.idleRss, p.idleRss, mib);
  row('  of which anonymous', w.idleAnon, p.idleAnon, mib);
  row('peak RSS (sync to storm)', w.peakRss, p.peakRss, mib);
  row('CPU per repeated ACK', w.ackCpuUs, p.ackCpuUs, (v) => `${v.toFixed(1)} µs`);
  if (w.missing + p.missing > 0) console.log(`  MISSING ACKs: Weft ${w.missing}, peer ${p.missing}`);
  printBusy('Weft', w);
  printBusy('peer', p);
}

/** Cores used per phase (max over rounds): a side near 1.00 on its own core was the limit. */
function printBusy(who: string, f: Figures): void {
  const parts = Object.entries(f.busy).map(([name, b]) => `${name} ${b.map((v) => v.toFixed(2)).join('/')}`);
  console.log(`  cores used, ${who} run (server/load generator/machine idle/softirq): ${parts.join(', ')}`);
}

export async function runPeerBench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      proxies: { type: 'string', default: '1000' },
      rounds: { type: 'string', default: '3' },
      modes: { type: 'string', default: 'sotw,delta' },
      'full-decode': { type: 'boolean', default: false },
      'weft-only': { type: 'boolean', default: false },
      deployed: { type: 'boolean', default: false },
      cores: { type: 'string', default: '1' },
      'xds-workers': { type: 'string', default: '0' },
      // What the weft image runs with (images/weft/image.json; docs/scale.md "Idle memory").
      'weft-node-flags': { type: 'string', default: imageNodeFlags() },
    },
  });
  const n = Number(values.proxies);
  const cores = Number(values.cores);
  const xdsWorkers = Number(values['xds-workers']);
  if (![1, 2].includes(cores) || !Number.isInteger(xdsWorkers) || xdsWorkers < 0 || xdsWorkers > 16) throw new Error('--cores 1|2, --xds-workers 0..16');
  const rounds = Number(values.rounds);
  if (!Number.isInteger(n) || n < 1 || n > 10_000 || !Number.isInteger(rounds) || rounds < 1 || rounds > 20)
    throw new Error('--proxies 1..10000, --rounds 1..20');
  const bin = peerBinary();
  prestripCheckout();
  const mutations: Mutation[] = Array.from({ length: rounds }, () => ['split', 'endpoints'] as const).flat();
  const dir = mkdtempSync(join(tmpdir(), 'weft-peer-'));
  const pinned = availableParallelism() >= 2 && canPin();
  try {
    const bytes = captureStates(DEFAULT_SHAPE, mutations, dir);
    const deployed = values.deployed ? mintTokens(n, DEFAULT_SHAPE, dir) : undefined;
    console.log(
      `captured what Weft serves each of the ${DEFAULT_SHAPE.namespaces * DEFAULT_SHAPE.servicesPerNamespace} proxy groups (${kib(bytes)} initially), ${mutations.length} mutations`,
    );
    console.log(
      !pinned
        ? 'NOT pinned (taskset or a second core missing): figures share cores'
        : cores === 1
          ? 'pinned: each server to CPU 0, the load generator to CPU 1 (taskset)'
          : 'two cores: each server and the load generator on CPUs 0-1 (taskset; GOMAXPROCS=2 for the peer)',
    );
    console.log(
      `load generator: ${Object.entries(loadEnv(pinned, cores))
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')} (the same for both servers)`,
    );
    console.log(
      `Weft: ${xdsWorkers === 0 ? 'streams on its main thread' : `${xdsWorkers} xDS worker threads`}${values['full-decode'] ? ', every request decoded by protobuf-es' : ''}, node ${values['weft-node-flags'] || '(no flags)'}`,
    );
    for (const mode of values.modes.split(',')) {
      const results: Figures[] = [];
      const servers = [() => startWeft(values['full-decode'], xdsWorkers, values['weft-node-flags']), () => startPeer(bin, dir, cores)];
      for (const start of values['weft-only'] ? servers.slice(0, 1) : servers) {
        const server = await start();
        try {
          results.push(await measure(server, bin, mode, n, mutations, pinned, cores));
        } finally {
          await server.stop();
        }
      }
      print(n, mode, results[0]!, results[1]);
      if (deployed !== undefined) {
        const server = await startWeft(values['full-decode'], xdsWorkers, values['weft-node-flags'], deployed);
        try {
          const tls = ['-ca', join(dir, 'ca.pem'), '-tokens', join(dir, 'tokens')];
          print(n, `${mode} Weft deployed (TLS + token per proxy)`, await measure(server, bin, mode, n, mutations, pinned, cores, tls), undefined);
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
