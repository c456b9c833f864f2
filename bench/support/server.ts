// The benchmark's control plane, in its own process so its RSS is the server's alone:
// the real pipeline (startControlPlane) over an in-memory source that emits the bench
// mesh and its mutations on request, debounced as the file and Kubernetes sources are
// (100 ms holdoff, 500 ms max), so change → ACK includes the debounce a real change sees. Driven over IPC (see protocol.ts); run with
// --expose-gc so memory figures are taken after a full collection.
import type { ConfigSource, ConfigState } from '../../src/sources/source.ts';
import { startControlPlane, type ControlPlane } from '../../src/runtime/control-plane.ts';
import { processMetrics } from '../../src/base/metrics.ts';
import { Debouncer } from '../../src/base/debounce.ts';
import { BenchMesh, type MeshShape } from './mesh.ts';
import type { DeployedIdentity } from './deployed.ts';
import type { XdsSecurity } from '../../src/runtime/xds-security.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ackShortPath } from '../../xds/server/request-decode.ts';
import { cpuMs, nowMs, type MemoryFigures, type ServerCounters, type ServerReply, type ServerRequest } from './protocol.ts';

/** A source whose states come from the benchmark, not from files or an API server. */
class MemorySource implements ConfigSource {
  #onChange: ((s: ConfigState) => void) | undefined;
  #latest: ConfigState;
  readonly #debounce = new Debouncer({ holdoffMs: 100, maxDelayMs: 500 }, () => this.#onChange?.(this.#latest));

  constructor(initial: ConfigState) {
    this.#latest = initial;
  }

  start(onChange: (s: ConfigState) => void): Promise<void> {
    this.#onChange = onChange;
    onChange(this.#latest);
    return Promise.resolve();
  }

  emit(state: ConfigState): void {
    this.#latest = state;
    this.#debounce.trigger();
  }

  stop(): Promise<void> {
    this.#debounce.cancel();
    this.#onChange = undefined;
    return Promise.resolve();
  }
}

async function metricSum(name: string, field: 'value' | 'sum' | 'count' = 'value'): Promise<number> {
  const metric = (await processMetrics()).getSingleMetric(name);
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => {
      const metricName = (v as { metricName?: string }).metricName;
      if (field === 'value') return metricName === undefined;
      return metricName === `${name}_${field}`;
    })
    .reduce((a, v) => a + v.value, 0);
}

async function counters(cp: ControlPlane | undefined): Promise<ServerCounters> {
  return {
    acks: await metricSum('weft_xds_acks_total'),
    nacks: await metricSum('weft_xds_nacks_total'),
    pushes: await metricSum('weft_xds_pushes_total'),
    encodes: await metricSum('weft_xds_resources_encoded_total'),
    generations: await metricSum('weft_xds_snapshot_generations_total'),
    flushSeconds: await metricSum('weft_xds_flush_seconds', 'sum'),
    flushes: await metricSum('weft_xds_flush_seconds', 'count'),
    connected: cp?.xds.streams.connected ?? 0,
  };
}

function memory(collect: boolean): MemoryFigures {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc && collect) for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external + m.arrayBuffers };
}

/** TLS from a fresh CA and token authentication (deployed.ts); the trust bundle goes to dir/ca.pem for the load generator. */
async function deployedSecurity(shape: MeshShape, id: DeployedIdentity): Promise<XdsSecurity> {
  // Loaded only here: the plaintext figures' idle RSS stays that of a server without a CA.
  const { createRootCa, loadCa } = await import('../../src/ca/authority.ts');
  const { createXdsSecurity } = await import('../../src/runtime/xds-security.ts');
  const { benchPod } = await import('./deployed.ts');
  const loaded = loadCa(await createRootCa(), { trustDomain: 'cluster.local' });
  if (!loaded.ok) throw new Error(`bench CA: ${JSON.stringify(loaded.errors)}`);
  const security = await createXdsSecurity({
    ca: loaded.ca,
    tokens: { jwks: { fetch: () => Promise.resolve(id.jwks), issuer: id.issuer }, podLookup: (ns, name) => benchPod(shape, ns, name) },
    serving: { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] },
  });
  writeFileSync(join(id.dir, 'ca.pem'), loaded.ca.trustBundlePem);
  return security;
}

let mesh: BenchMesh | undefined;
let source: MemorySource | undefined;
let cp: ControlPlane | undefined;

const send = (reply: ServerReply): void => {
  process.send?.(reply);
};

process.on('message', (msg: ServerRequest) => {
  void (async () => {
    switch (msg.cmd) {
      case 'start': {
        ackShortPath.enabled = msg.fullDecode !== true;
        mesh = new BenchMesh(msg.shape);
        source = new MemorySource(mesh.state());
        const deployed = msg.deployed !== undefined ? await deployedSecurity(msg.shape, msg.deployed) : undefined;
        cp = await startControlPlane({
          ...(deployed !== undefined ? { xdsCredentials: deployed.credentials, authenticate: deployed.authenticate, secrets: deployed } : {}),
          source,
          xdsAddress: '127.0.0.1:0',
          // The simulated proxies share a few connections (--streams-per-connection, 500); Envoys open one or two each.
          xdsLimits: { maxStreamsPerConnection: 100_000 },
          ...(msg.xdsWorkers ? { xdsWorkers: msg.xdsWorkers } : {}),
          ...(msg.debounceStages === 2 ? { pushDebounce: { holdoffMs: 100, maxDelayMs: 1000 } } : {}),
        });
        send({ cmd: 'started', port: cp.xdsPort, services: cp.model()?.services.size ?? 0 });
        break;
      }
      case 'stats': {
        const cpu = cpuMs();
        send({ cmd: 'stats', memory: memory(msg.gc), counters: await counters(cp), cpuMs: cpu });
        break;
      }
      case 'mutate': {
        if (!mesh || !source) throw new Error('mutate before start');
        const next = mesh.mutate(msg.mutation);
        const at = nowMs();
        // With a CPU profile (--weft-node-flags=--cpu-prof …), the same clock as its samples.
        if (process.env.WEFT_BENCH_MARKS) console.error(`mark ${msg.mutation} ${process.hrtime.bigint() / 1000n}`);
        source.emit(next); // the source's debounce, then model rebuild, snapshot invalidation and pushes
        send({ cmd: 'mutated', at });
        break;
      }
      case 'stop':
        await cp?.close();
        send({ cmd: 'stopped' });
        process.exit(0);
    }
  })().catch((err: unknown) => {
    console.error('bench server:', err);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
