// `npm run bench -- tls-floor [--connections N] [--bytes B] [--responses R] [--envoy-windows]`:
// memory per connection of a bare grpc-js server listening as Weft's xDS listener does
// (bench/support/tls-floor-server.ts), plaintext, TLS, and TLS with Weft's sliced writes
// (xds/server/tls-writes.ts): what Node, grpc-js and OpenSSL cost per connection whatever Weft
// does (docs/scale.md "Memory per TLS connection"). Each connection carries one stream that
// got R responses of B bytes and then idles. --envoy-windows: the client advertises Envoy's
// 256 MiB HTTP/2 windows, so a response reaches TLS in one write as it does for a sidecar.
import { parseArgs } from 'node:util';
import { Child } from './support/child.ts';
import type { FloorMode, FloorReply, FloorRequest } from './support/tls-floor-server.ts';
import type { FloorClientReply, FloorClientRequest } from './support/tls-floor-client.ts';

const KiB = 1024;
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function perConnection(
  mode: FloorMode,
  n: number,
  bytes: number,
  responses: number,
  envoyWindows: boolean,
): Promise<{ rss: number; anon: number; heap: number }> {
  const server = new Child<FloorRequest, FloorReply>('tls-floor server', new URL('./support/tls-floor-server.ts', import.meta.url), {
    execArgv: ['--expose-gc', '--max-semi-space-size=8'],
  });
  const client = new Child<FloorClientRequest, FloorClientReply>('tls-floor client', new URL('./support/tls-floor-client.ts', import.meta.url));
  try {
    const { port, ca } = await server.request({ cmd: 'start', mode, bytes, responses }, 'started');
    await settle(500);
    const idle = await server.request({ cmd: 'memory' }, 'memory');
    await client.request({ cmd: 'connect', port, ca, connections: n, expect: (bytes + 5) * responses, envoyWindows }, 'connected');
    await settle(1000);
    const busy = await server.request({ cmd: 'memory' }, 'memory');
    return { rss: (busy.rss - idle.rss) / n, anon: (busy.anon - idle.anon) / n, heap: (busy.heapUsed - idle.heapUsed) / n };
  } finally {
    await client.stop(0);
    await server.stop(0);
  }
}

export async function runTlsFloorBench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      connections: { type: 'string', default: '1000' },
      bytes: { type: 'string', default: '37000' },
      responses: { type: 'string', default: '4' },
      'envoy-windows': { type: 'boolean', default: false },
    },
  });
  const [n, bytes, responses, envoy] = [Number(values.connections), Number(values.bytes), Number(values.responses), values['envoy-windows']];
  console.log(
    `${n} connections, one stream each: a 5 KB request, ${responses} × ${bytes} B responses, then idle; client windows: ${envoy ? "Envoy's (256 MiB)" : "Node's default (64 KiB)"}`,
  );
  console.log('per connection, after a full GC          RSS       anon    V8 heap');
  for (const mode of ['plaintext', 'tls', 'tls-sliced'] as const) {
    const r = await perConnection(mode, n, bytes, responses, envoy);
    const f = (b: number) => `${(b / KiB).toFixed(1)} KiB`.padStart(11);
    console.log(`  ${mode.padEnd(32)}${f(r.rss)}${f(r.anon)}${f(r.heap)}`);
  }
}
