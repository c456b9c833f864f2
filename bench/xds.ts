// `npm run bench -- xds [--proxies N]`: N simulated sidecars (default 1000, up to 10,000),
// each an ADS SotW stream subscribed as Envoy would, against the real control plane.
//
//   processes  the control plane (bench/support/server.ts, in-memory config source) and the
//              simulated sidecars (bench/support/clients.ts) run as two children, so the
//              server's RSS is its own; this process orchestrates and measures encode cost.
//   mesh       10 namespaces × 5 services × 2 ports (http 8080, grpc 9090), 4 endpoints
//              each, a TrafficSplit and a RetryPolicy per namespace. Proxy i sits in
//              namespace i mod 10 and fronts one of its 5 services: 50 distinct configs.
//   change     flip ns-00's split (every proxy gets new routes), then add an endpoint to
//              ns-00/svc-1 (every proxy gets new endpoints); time from the change to each
//              proxy's ACK of the new version. Includes the source's debounce (100 ms holdoff);
//              --debounce-stages 2 adds the push debounce of old (100 ms holdoff, 1 s max) after it.
//
// Prints figures only; never fails on timing.
import { parseArgs } from 'node:util';
import { Child } from './support/child.ts';
import { measureEncodeCost } from './support/encode-cost.ts';
import { kib, mib, ms, percentile, us } from './support/figures.ts';
import { DEFAULT_SHAPE, mutationTypeUrl, type MeshShape, type Mutation } from './support/mesh.ts';
import type { ClientReply, ClientRequest, MemoryFigures, ServerCounters, ServerReply, ServerRequest } from './support/protocol.ts';

const MAX_PROXIES = 10_000;

interface Options {
  readonly proxies: number;
  readonly shape: MeshShape;
  readonly streamsPerConnection: number;
  readonly rounds: number;
  readonly debounceStages: 1 | 2;
  /** Directory for a V8 CPU profile of the server process (--cpu-prof), if wanted. */
  readonly profileServer?: string;
}

function options(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      proxies: { type: 'string', default: '1000' },
      namespaces: { type: 'string', default: String(DEFAULT_SHAPE.namespaces) },
      services: { type: 'string', default: String(DEFAULT_SHAPE.servicesPerNamespace) },
      endpoints: { type: 'string', default: String(DEFAULT_SHAPE.endpointsPerService) },
      'streams-per-connection': { type: 'string', default: '500' },
      rounds: { type: 'string', default: '3' },
      'debounce-stages': { type: 'string', default: '1' },
      'profile-server': { type: 'string' },
    },
  });
  const int = (name: string, v: string, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}, got ${v}`);
    return n;
  };
  return {
    proxies: int('proxies', values.proxies, 1, MAX_PROXIES),
    shape: {
      namespaces: int('namespaces', values.namespaces, 1, 100),
      servicesPerNamespace: int('services', values.services, 1, 100),
      endpointsPerService: int('endpoints', values.endpoints, 1, 200),
    },
    streamsPerConnection: int('streams-per-connection', values['streams-per-connection'], 1, MAX_PROXIES),
    rounds: int('rounds', values.rounds, 1, 20),
    debounceStages: int('debounce-stages', values['debounce-stages'], 1, 2) as 1 | 2,
    ...(values['profile-server'] ? { profileServer: values['profile-server'] } : {}),
  };
}

const delta = (a: ServerCounters, b: ServerCounters, k: keyof ServerCounters): number => b[k] - a[k];

export async function runXdsBench(args: string[]): Promise<void> {
  const opts = options(args);
  const { proxies: n, shape } = opts;
  const groups = shape.namespaces * shape.servicesPerNamespace;
  const connections = Math.ceil(n / opts.streamsPerConnection);
  console.log(
    `mesh: ${shape.namespaces} namespaces × ${shape.servicesPerNamespace} services × 2 ports, ${shape.endpointsPerService} endpoints each, ` +
      `${shape.servicesPerNamespace >= 3 ? shape.namespaces : 0} TrafficSplits, ${shape.servicesPerNamespace >= 4 ? shape.namespaces : 0} RetryPolicies`,
  );
  console.log(`proxies: ${n} SotW ADS streams over ${connections} HTTP/2 connection(s), ${Math.min(n, groups)} distinct configs (namespace × fronted service)`);

  // 1. Encode cost: pure, in this process.
  const cost = await measureEncodeCost(shape);
  console.log('\nencode cost (median of 5, fresh model each):');
  console.log(`  model build                              ${ms(cost.modelBuildMs)}`);
  console.log(
    `  distinct config, first of a new model    ${ms(cost.firstGroupMs)}  (${cost.firstGroupEncodes} resources encoded, incl. the shared outbound clusters/endpoints; snapshot ${cost.resources} resources, ${kib(cost.snapshotBytes)})`,
  );
  console.log(
    `  distinct config, each further one        ${ms(cost.nextGroupMs)}  (${cost.nextGroupEncodes} resources encoded: its routes and inbound config)`,
  );
  console.log(`  all ${cost.groups} distinct configs                  ${ms(cost.allGroupsMs)}`);
  console.log(
    `  extra proxy sharing a config             ${us(cost.sharingProxyUs)}  (${cost.sharingProxyEncodes} resources encoded: snapshot lookup + nonce on 4 shared bodies)`,
  );

  // 2. Server and clients in their own processes.
  const server = new Child<ServerRequest, ServerReply>('bench server', new URL('./support/server.ts', import.meta.url), {
    execArgv: ['--expose-gc', ...(opts.profileServer ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileServer}`] : [])],
    env: { WEFT_LOG_LEVEL: process.env.WEFT_LOG_LEVEL ?? 'warn' },
  });
  const clients = new Child<ClientRequest, ClientReply>('bench clients', new URL('./support/clients.ts', import.meta.url), {
    execArgv: ['--max-old-space-size=8192'],
  });
  try {
    const started = await server.request({ cmd: 'start', shape, debounceStages: opts.debounceStages }, 'started');
    const idle = await server.request({ cmd: 'stats', gc: true }, 'stats');
    const connect = async (from: number, to: number) => {
      const t = performance.now();
      const r = await clients.request(
        {
          cmd: 'connect',
          plan: {
            port: started.port,
            from,
            to,
            namespaces: shape.namespaces,
            servicesPerNamespace: shape.servicesPerNamespace,
            streamsPerConnection: opts.streamsPerConnection,
          },
        },
        'synced',
      );
      if (r.problems.length > 0) console.log(`  problems: ${r.problems.join('; ')}`);
      return { ...r, ms: performance.now() - t };
    };
    const leaders = Math.min(n, groups);
    const first = await connect(0, leaders);
    const withGroups = await server.request({ cmd: 'stats', gc: true }, 'stats');
    const clientCpu0 = first.cpuMs;
    const rest = await connect(leaders, n);
    const full = await server.request({ cmd: 'stats', gc: false }, 'stats');
    const fullMem = (await server.request({ cmd: 'stats', gc: true }, 'stats')).memory;

    console.log(`\nconnect (server pid ${server.pid}, ${started.services} services):`);
    console.log(`  one proxy per config (${leaders}) synced in     ${ms(first.ms)}`);
    console.log(
      `  remaining ${n - leaders} proxies synced in        ${ms(rest.ms)}  (${full.counters.connected} connected, ${full.counters.acks} ACKs, ${full.counters.nacks} NACKs)`,
    );
    console.log(`    CPU meanwhile: server ${ms(full.cpuMs - withGroups.cpuMs)}, simulated proxies ${ms(rest.cpuMs - clientCpu0)}`);
    console.log('\nserver memory (after full GC):');
    const mem = (m: MemoryFigures): string => `RSS ${mib(m.rss)}, JS heap ${mib(m.heapUsed)}, buffers ${mib(m.external)}`;
    console.log(`  idle (model loaded, 0 proxies)           ${mem(idle.memory)}`);
    console.log(`  ${String(leaders).padEnd(5)} proxies (one per config)        ${mem(withGroups.memory)}`);
    console.log(`  ${String(n).padEnd(5)} proxies                         ${mem(fullMem)}`);
    console.log(
      `  RSS per connected proxy   (RSS_N − RSS_0)/N              ${kib((fullMem.rss - idle.memory.rss) / n)}  (heap ${kib((fullMem.heapUsed - idle.memory.heapUsed) / n)})`,
    );
    if (n > leaders) {
      console.log(
        `  RSS per proxy sharing a config (RSS_N − RSS_${leaders})/${n - leaders}  ${kib((fullMem.rss - withGroups.memory.rss) / (n - leaders))}  (heap ${kib((fullMem.heapUsed - withGroups.memory.heapUsed) / (n - leaders))})`,
      );
    }

    // 3. Config changes: time from the change to each proxy's ACK of the new version.
    const stages =
      opts.debounceStages === 2
        ? 'two debounce stages: source 100 ms holdoff / 500 ms max, then push 100 ms holdoff / 1 s max'
        : 'one debounce stage: source 100 ms holdoff / 500 ms max, push at once';
    console.log(`\nconfig change → ACK of the new version by each of ${n} proxies (${stages}):`);
    const mutations: Mutation[] = ['split', 'endpoints'];
    const totals: Record<Mutation, number[]> = { split: [], endpoints: [] };
    for (let round = 1; round <= opts.rounds; round++) {
      for (const m of mutations) {
        const armed = await clients.request({ cmd: 'arm', typeUrl: mutationTypeUrl[m] }, 'armed');
        const before = await server.request({ cmd: 'stats', gc: false }, 'stats');
        const { at } = await server.request({ cmd: 'mutate', mutation: m }, 'mutated');
        const got = await clients.request({ cmd: 'collect', timeoutMs: 120_000 }, 'collected');
        const after = await server.request({ cmd: 'stats', gc: false }, 'stats');
        const lat = got.ackedAt.map((t) => t - at).sort((a, b) => a - b);
        totals[m].push(percentile(lat, 100));
        const c = after.counters;
        const flushMs = delta(before.counters, c, 'flushSeconds') * 1000;
        const label = m === 'split' ? 'split flip (RDS)    ' : 'endpoint add (EDS)  ';
        console.log(
          `  #${round} ${label} p50 ${ms(percentile(lat, 50))}, p90 ${ms(percentile(lat, 90))}, max ${ms(percentile(lat, 100))}` +
            ` | ${got.ackedAt.length}/${armed.proxies} ACKed${got.missing ? `, ${got.missing} MISSING` : ''}` +
            ` | server flush ${ms(flushMs)} (${us((flushMs * 1000) / n)}/proxy) in ${delta(before.counters, c, 'flushes')} flush(es),` +
            ` ${delta(before.counters, c, 'generations')} snapshots generated, ${delta(before.counters, c, 'encodes')} resources encoded, ${delta(before.counters, c, 'pushes')} responses, ${delta(before.counters, c, 'nacks')} NACKs` +
            ` | CPU: server ${ms(after.cpuMs - before.cpuMs)}, proxies ${ms(got.cpuMs - armed.cpuMs)}`,
        );
      }
    }
    for (const m of mutations) {
      const t = [...totals[m]].sort((a, b) => a - b);
      console.log(
        `  total push time (change → last proxy's ACK), ${m === 'split' ? 'split flip  ' : 'endpoint add'}: median ${ms(percentile(t, 50))}, worst ${ms(percentile(t, 100))} over ${t.length} round(s)`,
      );
    }
    console.log('  (latency: from the change to the proxy sending its ACK, debounce included; server flush: after the debounce, generating');
    console.log("   the snapshots of every affected config, then writing every stream's response)");
  } finally {
    await Promise.allSettled([clients.request({ cmd: 'stop' }, 'stopped'), server.request({ cmd: 'stop' }, 'stopped')]);
    await Promise.all([clients.stop(5000), server.stop(30_000)]);
  }
  if (opts.profileServer) console.log(`\nserver CPU profile written to ${opts.profileServer} (open in Chrome DevTools → Performance)`);
}
