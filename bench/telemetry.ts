// `npm run bench -- telemetry [--requests N] [--concurrency C] [--rounds R]`: what telemetry
// costs on the data path. One Envoy (explicit outbound proxy, programmed by `weft serve`) in
// front of the demo backend, measured with telemetry off (no stats tags, no access log, no
// tracing) and on (stats tags + JSON access log on stdout + 1 % tracing to a real OpenTelemetry
// Collector), alternating rounds so a noisy neighbour hits both. Prints requests/s, p99 and the
// on/off ratios. Never fails on timing.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBackend } from '../examples/backends/server.ts';
import { renderBootstrap } from '../xds/bootstrap/bootstrap.ts';
import type { ProxyTelemetry } from '../xds/bootstrap/telemetry.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const cache = process.env.WEFT_CACHE ?? join(homedir(), '.cache', 'weft');
const children = new Set<ChildProcess>();
process.once('exit', () => children.forEach((c) => c.kill('SIGKILL')));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function start(bin: string, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VITEST: '' } });
  children.add(child);
  let out = '';
  // Drain stdout like a kubelet would (the access log goes there); keep only a tail.
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8192)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8192)));
  return { child, output: () => out };
}

async function stop(child: ChildProcess): Promise<void> {
  children.delete(child);
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(5_000).then(() => child.kill('SIGKILL'))]);
}

async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not in time`);
    await sleep(100);
  }
}

function envoyBinary(): string {
  if (process.env.WEFT_ENVOY) return process.env.WEFT_ENVOY;
  const link = join(cache, 'bin', 'envoy');
  return existsSync(link)
    ? link
    : execFileSync('bash', [join(root, 'scripts/install-envoy.sh')], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .at(-1)!;
}

function otelcolBinary(): string {
  const envFile = join(cache, 'telemetry-tools.env');
  if (!existsSync(envFile)) execFileSync('bash', [join(root, 'scripts/install-telemetry.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const m = /^OTELCOL=(.*)$/m.exec(readFileSync(envFile, 'utf8'));
  if (!m?.[1]) throw new Error('install-telemetry.sh wrote no OTELCOL');
  return m[1];
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  failed: number;
}

/** `requests` GETs through the proxy at `concurrency`, keep-alive; latency per request in ms. */
async function load(proxyPort: number, requests: number, concurrency: number): Promise<Figures> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = request({ agent, host: '127.0.0.1', port: proxyPort, path: 'http://checkout.shop:8080/', headers: { host: 'checkout.shop:8080' } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) failed++;
          latencies.push(performance.now() - t0);
          resolve();
        });
      });
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end();
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next++;
        await one();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { rps: requests / seconds, p50: at(0.5), p99: at(0.99), failed };
}

async function envoyWith(xdsAddress: string, telemetry: ProxyTelemetry | undefined): Promise<{ child: ChildProcess; port: number; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-bench-envoy-'));
  const port = await freePort();
  const admin = await freePort();
  const yaml = renderBootstrap({
    nodeId: `bench-${telemetry ? 'on' : 'off'}`,
    namespace: 'shop',
    xdsAddress,
    outboundPort: port,
    adminPort: admin,
    ...(telemetry ? { telemetry } : {}),
  }).yaml;
  await writeFile(join(dir, 'bootstrap.yaml'), yaml);
  const { child } = start(envoyBinary(), [
    '-c',
    join(dir, 'bootstrap.yaml'),
    '--disable-hot-restart',
    '--concurrency',
    '1',
    '-l',
    'error',
    '--base-id',
    String(admin),
  ]);
  await until('envoy ready', async () => (await fetch(`http://127.0.0.1:${admin}/ready`)).ok);
  await until('envoy route', async () =>
    (await fetch(`http://127.0.0.1:${admin}/config_dump?resource=dynamic_route_configs`)).text().then((t) => t.includes('checkout')),
  );
  return { child, port, dir };
}

export async function runTelemetryBench(args: string[]): Promise<void> {
  const arg = (name: string, def: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : def;
  };
  const requests = arg('requests', 20_000);
  const concurrency = arg('concurrency', 16);
  const rounds = arg('rounds', 2);
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    const backend = await startBackend({ name: 'checkout' });
    cleanup.push(() => backend.stop());
    const meshDir = await mkdtemp(join(tmpdir(), 'weft-bench-mesh-'));
    cleanup.push(() => rm(meshDir, { recursive: true, force: true }));
    await writeFile(
      join(meshDir, 'mesh.yaml'),
      `apiVersion: v1\nkind: Service\nmetadata: {name: checkout, namespace: shop}\nspec:\n  ports: [{name: http, port: 8080, targetPort: ${backend.port}, protocol: TCP}]\n---\n` +
        `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: checkout-1, namespace: shop, labels: {kubernetes.io/service-name: checkout}}\naddressType: IPv4\n` +
        `ports: [{name: http, port: ${backend.port}, protocol: TCP}]\nendpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]\n`,
    );
    const xdsPort = await freePort();
    const weft = start(process.execPath, [
      join(root, 'src/runtime/cli/weft.ts'),
      'serve',
      '--config-dir',
      meshDir,
      '--xds-address',
      `127.0.0.1:${xdsPort}`,
      '--monitoring-address',
      '127.0.0.1:0',
    ]);
    cleanup.push(() => stop(weft.child));
    await until('weft serve', async () => weft.output().includes('"ready"'));

    // A real Collector for the 1 % of spans (debug exporter, basic verbosity).
    const grpc = await freePort();
    const otelDir = await mkdtemp(join(tmpdir(), 'weft-bench-otel-'));
    cleanup.push(() => rm(otelDir, { recursive: true, force: true }));
    await writeFile(
      join(otelDir, 'config.yaml'),
      `receivers: {otlp: {protocols: {grpc: {endpoint: "127.0.0.1:${grpc}"}}}}\nexporters: {debug: {verbosity: basic}}\nservice:\n  telemetry: {metrics: {level: none}}\n  pipelines: {traces: {receivers: [otlp], exporters: [debug]}}\n`,
    );
    const otel = start(otelcolBinary(), ['--config', join(otelDir, 'config.yaml')]);
    cleanup.push(() => stop(otel.child));
    await until('otelcol', async () => /Everything is ready/.test(otel.output()));

    const xdsAddress = `127.0.0.1:${xdsPort}`;
    const on: ProxyTelemetry = {
      workload: 'web',
      identity: 'spiffe://cluster.local/ns/shop/sa/web',
      accessLog: true,
      traceSampling: 1,
      otlpAddress: `127.0.0.1:${grpc}`,
    };
    console.log(`load: ${requests} requests per round, concurrency ${concurrency}, ${rounds} rounds each, one Envoy (--concurrency 1) → demo backend`);
    const results: Record<'off' | 'on', Figures[]> = { off: [], on: [] };
    for (let r = 0; r < rounds; r++) {
      for (const mode of ['off', 'on'] as const) {
        const envoy = await envoyWith(xdsAddress, mode === 'on' ? on : undefined);
        await load(envoy.port, Math.min(2_000, requests), concurrency); // warm-up
        const f = await load(envoy.port, requests, concurrency);
        results[mode].push(f);
        console.log(
          `round ${r + 1} telemetry ${mode.padEnd(3)}: ${f.rps.toFixed(0)} req/s, p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms${f.failed ? `, ${f.failed} failed` : ''}`,
        );
        await stop(envoy.child);
        await rm(envoy.dir, { recursive: true, force: true });
      }
    }
    const mean = (xs: Figures[], k: keyof Figures) => xs.reduce((a, x) => a + x[k], 0) / xs.length;
    const [offRps, onRps, offP99, onP99] = [mean(results.off, 'rps'), mean(results.on, 'rps'), mean(results.off, 'p99'), mean(results.on, 'p99')];
    console.log(`telemetry off: ${offRps.toFixed(0)} req/s, p99 ${offP99.toFixed(2)} ms`);
    console.log(`telemetry on (stats tags + JSON access log + 1 % tracing): ${onRps.toFixed(0)} req/s, p99 ${onP99.toFixed(2)} ms`);
    console.log(`ratio on/off: throughput ${(onRps / offRps).toFixed(3)}, p99 ${(onP99 / offP99).toFixed(3)}`);
  } finally {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  }
}
