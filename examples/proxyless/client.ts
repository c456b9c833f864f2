// A proxyless gRPC client: @grpc/grpc-js with the xds: resolver, configured by Weft over
// ADS — no sidecar. Calls Greeter/SayHello through `xds:///greeter.shop:50051` and prints
// which backend answered. Output is JSON lines on stdout: `{"type":"progress",…}` every
// --report-every calls (cumulative counts), then one `{"type":"summary",…}`.
//
//   node examples/proxyless/client.ts --xds-address 127.0.0.1:15010 [--target xds:///greeter.shop:50051]
//        [--calls 1000] [--concurrency 4] [--rate CALLS_PER_S] [--report-every 100]
//        [--namespace shop] [--node-id proxyless-demo]
//
// The bootstrap comes from GRPC_XDS_BOOTSTRAP / GRPC_XDS_BOOTSTRAP_CONFIG when set, else it
// is built from the flags. grpc-js-xds reads it once per process, so one process is one node.
import { parseArgs } from 'node:util';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { proxylessBootstrap } from './bootstrap.ts';
import { greeterService } from './greeter.ts';
import type { CallProgress, CallSummary } from './output.ts';

const { values } = parseArgs({
  options: {
    'xds-address': { type: 'string' },
    target: { type: 'string', default: 'xds:///greeter.shop:50051' },
    calls: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '4' },
    namespace: { type: 'string', default: 'shop' },
    'node-id': { type: 'string', default: `proxyless-${process.pid}` },
    'deadline-ms': { type: 'string', default: '10000' },
    'report-every': { type: 'string', default: '0' },
    rate: { type: 'string', default: '0' },
  },
});

if (!process.env.GRPC_XDS_BOOTSTRAP && !process.env.GRPC_XDS_BOOTSTRAP_CONFIG) {
  const xdsAddress = values['xds-address'];
  if (!xdsAddress) {
    console.error('pass --xds-address HOST:PORT (or set GRPC_XDS_BOOTSTRAP / GRPC_XDS_BOOTSTRAP_CONFIG)');
    process.exit(2);
  }
  const bootstrap = proxylessBootstrap({ xdsAddress, nodeId: values['node-id'], namespace: values.namespace });
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify(bootstrap);
}
grpcXds.register();

const total = Number(values.calls);
const concurrency = Math.max(1, Number(values.concurrency));
const deadlineMs = Number(values['deadline-ms']);
const reportEvery = Number(values['report-every']);
/** Calls per second over all workers; 0 = as fast as the backends answer. */
const rate = Number(values.rate);
const client = new Client(values.target, credentials.createInsecure());
const method = greeterService.SayHello;

function sayHello(): Promise<string> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      Buffer.from('hello'),
      // waitForReady: queue calls until xDS has delivered routes instead of failing fast.
      new Metadata({ waitForReady: true }),
      { deadline: Date.now() + deadlineMs },
      (err: ServiceError | null, res?: Buffer) => (err ? reject(err) : resolve(res?.toString() ?? '')),
    );
  });
}

const byBackend: Record<string, number> = {};
const errorSamples = new Set<string>();
let ok = 0;
let errors = 0;
let started = 0;
let firstOkMs: number | undefined;
const t0 = performance.now();

function emit(line: CallProgress | CallSummary, done?: () => void): void {
  process.stdout.write(`${JSON.stringify(line)}\n`, done);
}

async function worker(): Promise<void> {
  while (started < total) {
    started += 1;
    if (rate > 0) {
      const due = t0 + (1000 * (started - 1)) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    try {
      const backend = await sayHello();
      byBackend[backend] = (byBackend[backend] ?? 0) + 1;
      ok += 1;
      firstOkMs ??= performance.now() - t0;
    } catch (err) {
      errors += 1;
      if (errorSamples.size < 5) errorSamples.add(err instanceof Error ? err.message : String(err));
    }
    const done = ok + errors;
    if (reportEvery > 0 && done % reportEvery === 0 && done < total) {
      emit({ type: 'progress', done, ok, errors, byBackend: { ...byBackend } });
    }
  }
}

await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
const summary: CallSummary = {
  type: 'summary',
  target: values.target,
  calls: total,
  ok,
  errors,
  byBackend,
  errorSamples: [...errorSamples],
  elapsedMs: Math.round(performance.now() - t0),
  firstOkMs: firstOkMs === undefined ? undefined : Math.round(firstOkMs),
};
client.close();
// The xDS client keeps its ADS stream (and timers) open for other channels; we are done.
emit(summary, () => process.exit(errors > 0 ? 1 : 0));
