// Real telemetry back ends for the integration tier: Prometheus scraping loopback targets and an
// OpenTelemetry Collector receiving OTLP/gRPC and re-exporting OTLP/JSON to an HTTP server in
// the test. Binaries come from scripts/install-telemetry.sh (cached; run once if missing).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll } from 'vitest';
import { freePort } from './free-port.ts';
import { requireTier } from './tier.ts';

const installScript = fileURLToPath(new URL('../../scripts/install-telemetry.sh', import.meta.url));

/** Paths of the cached Prometheus and Collector binaries (installs them on first use). */
export function telemetryTools(): { prometheus: string; otelcol: string } {
  requireTier('Prometheus and the OpenTelemetry Collector', 'integration');
  const envFile = join(process.env.WEFT_CACHE ?? join(homedir(), '.cache', 'weft'), 'telemetry-tools.env');
  const read = (text: string) => Object.fromEntries(text.split('\n').flatMap((l) => (l.includes('=') ? [l.split('=', 2) as [string, string]] : [])));
  let env = existsSync(envFile) ? read(readFileSync(envFile, 'utf8')) : {};
  if (!env.PROMETHEUS || !existsSync(env.PROMETHEUS) || !env.OTELCOL || !existsSync(env.OTELCOL)) {
    env = read(execFileSync('bash', [installScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 900_000 }));
  }
  if (!env.PROMETHEUS || !env.OTELCOL) throw new Error('install-telemetry.sh printed no PROMETHEUS/OTELCOL paths');
  return { prometheus: env.PROMETHEUS, otelcol: env.OTELCOL };
}

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

async function run(bin: string, args: string[], dir: string): Promise<{ child: ChildProcess; output: () => string; stop: () => Promise<void> }> {
  const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => out,
    stop: async () => {
      children.delete(child);
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000).then(() => child.kill('SIGKILL'))]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

export interface Prometheus {
  readonly url: string;
  /** Instant query; the vector (or scalar as one sample). Throws on a query error. */
  query(expr: string): Promise<PromSample[]>;
  /** Resolves once every target has been scraped successfully at least `n` times since now. */
  waitForScrapes(n: number): Promise<void>;
  stop(): Promise<void>;
}

/** Prometheus scraping each `host:port` target's `path` every second. */
export async function startPrometheus(targets: readonly { job: string; address: string; path: string }[]): Promise<Prometheus> {
  const { prometheus } = telemetryTools();
  const dir = await mkdtemp(join(tmpdir(), 'weft-prom-'));
  const port = await freePort();
  const jobs = targets.map(
    (t) =>
      `  - job_name: ${JSON.stringify(t.job)}\n    metrics_path: ${JSON.stringify(t.path)}\n    static_configs: [{targets: [${JSON.stringify(t.address)}]}]`,
  );
  await writeFile(join(dir, 'prometheus.yml'), `global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n${jobs.join('\n')}\n`);
  const p = await run(
    prometheus,
    ['--config.file=prometheus.yml', `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    dir,
  );
  const url = `http://127.0.0.1:${port}`;
  const api = async (path: string): Promise<unknown> => {
    const res = await fetch(url + path);
    const body = (await res.json()) as { status: string; data?: unknown; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline || p.child.exitCode !== null) {
      await p.stop();
      throw new Error(`prometheus did not start:\n${p.output()}`);
    }
    await sleep(200);
  }
  const query = async (expr: string): Promise<PromSample[]> => {
    const data = (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`)) as { resultType: string; result: unknown };
    if (data.resultType === 'scalar') return [{ metric: {}, value: Number((data.result as [number, string])[1]) }];
    return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };
  return {
    url,
    query,
    async waitForScrapes(n) {
      // count_over_time(up) per job: how many scrapes were attempted; up==1 checked at the end.
      const counts = async () => new Map((await query('count_over_time(up[10m])')).map((s) => [s.metric.job ?? '', s.value]));
      const before = await counts();
      const until = Date.now() + 30_000 + n * 2_000;
      for (;;) {
        const now = await counts();
        if (targets.every((t) => (now.get(t.job) ?? 0) >= (before.get(t.job) ?? 0) + n)) break;
        if (Date.now() > until) throw new Error(`prometheus: fewer than ${n} new scrapes per target in time`);
        await sleep(250);
      }
      const down = (await query('up == 0')).map((s) => s.metric.job);
      if (down.length > 0) throw new Error(`prometheus: targets down: ${down.join(', ')}\n${p.output()}`);
    },
    stop: p.stop,
  };
}

/** One span as the Collector re-exported it (OTLP/JSON). */
export interface ExportedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly attributes: Record<string, string>;
  readonly resource: Record<string, string>;
}

export interface Collector {
  /** host:port of its OTLP/gRPC receiver. */
  readonly otlpGrpc: string;
  readonly spans: ExportedSpan[];
  stop(): Promise<void>;
}

type KeyValue = { key: string; value: { stringValue?: string; intValue?: string; boolValue?: boolean } };
const attrs = (kvs: KeyValue[] | undefined) =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, String(kv.value.stringValue ?? kv.value.intValue ?? kv.value.boolValue ?? '')]));

/** The Collector: OTLP/gRPC in, OTLP/HTTP JSON out to a server in this process that keeps the spans. */
export async function startCollector(): Promise<Collector> {
  const { otelcol } = telemetryTools();
  const spans: ExportedSpan[] = [];
  const sink: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      try {
        const doc = JSON.parse(body) as {
          resourceSpans?: {
            resource?: { attributes?: KeyValue[] };
            scopeSpans?: { spans?: (Omit<ExportedSpan, 'attributes' | 'resource'> & { attributes?: KeyValue[] })[] }[];
          }[];
        };
        for (const rs of doc.resourceSpans ?? []) {
          const resource = attrs(rs.resource?.attributes);
          for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ ...s, attributes: attrs(s.attributes), resource });
        }
      } catch {
        // Not a trace export (metrics, logs): ignored.
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const sinkPort = (sink.address() as { port: number }).port;
  const grpcPort = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'weft-otelcol-'));
  await writeFile(
    join(dir, 'config.yaml'),
    [
      'receivers:',
      `  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:${grpcPort}"}}}`,
      'exporters:',
      `  otlphttp: {endpoint: "http://127.0.0.1:${sinkPort}", encoding: json, compression: none, retry_on_failure: {enabled: false}}`,
      'service:',
      `  telemetry: {metrics: {level: none}}`,
      '  pipelines:',
      '    traces: {receivers: [otlp], exporters: [otlphttp]}',
      '',
    ].join('\n'),
  );
  const p = await run(otelcol, ['--config', join(dir, 'config.yaml')], dir);
  const deadline = Date.now() + 60_000;
  while (!/Everything is ready|Starting GRPC server/.test(p.output())) {
    if (Date.now() > deadline || p.child.exitCode !== null) {
      await p.stop();
      sink.close();
      throw new Error(`otelcol did not start:\n${p.output()}`);
    }
    await sleep(200);
  }
  return {
    otlpGrpc: `127.0.0.1:${grpcPort}`,
    spans,
    stop: async () => {
      await p.stop();
      await new Promise<void>((r) => sink.close(() => r()));
    },
  };
}
