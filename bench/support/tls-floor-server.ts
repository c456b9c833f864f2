// The server side of `bench tls-floor` (bench/tls-floor.ts): a grpc-js server listening as
// Weft's xDS listener does (xds/server/listen.ts: a net server whose sockets are injected
// into grpc-js), with one bidirectional method that answers each request with `responses`
// messages of `bytes` bytes, and nothing else of Weft: what remains per connection is
// Node's, grpc-js's and OpenSSL's. Spoken to over IPC by the bench.
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { createRootCa, loadCa } from '../../src/ca/authority.ts';
import { sliceTlsWrites } from '../../xds/server/tls-writes.ts';

export type FloorMode = 'plaintext' | 'tls' | 'tls-sliced';
export type FloorRequest = { readonly cmd: 'start'; readonly mode: FloorMode; readonly bytes: number; readonly responses: number } | { readonly cmd: 'memory' };
export type FloorReply =
  | { readonly cmd: 'started'; readonly port: number; readonly ca: string }
  | { readonly cmd: 'memory'; readonly rss: number; readonly anon: number; readonly heapUsed: number };

const same = (b: Buffer): Buffer => b;
const send = (r: FloorReply): void => void process.send?.(r);

async function start(mode: FloorMode, bytes: number, responses: number): Promise<void> {
  const server = new Server({ 'grpc.max_send_message_length': 256 * 1024 * 1024 });
  const body = Buffer.alloc(bytes, 7);
  const method = { path: '/floor.Floor/Stream', requestStream: true, responseStream: true };
  const codec = { requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same };
  server.addService(
    { Stream: { ...method, ...codec } },
    {
      Stream(call: ServerDuplexStream<Buffer, Buffer>) {
        call.on('data', () => {
          for (let i = 0; i < responses; i++) call.write(body);
        });
        call.on('error', () => undefined);
      },
    },
  );
  let ca = '';
  let credentials = ServerCredentials.createInsecure();
  if (mode !== 'plaintext') {
    const loaded = loadCa(await createRootCa(), { trustDomain: 'cluster.local' });
    if (!loaded.ok) throw new Error('bench CA');
    const r = await loaded.ca.issueServing({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], ttlMs: 3_600_000, now: new Date() });
    if (!r.ok || r.cert.keyPem === undefined) throw new Error('bench serving certificate');
    ca = loaded.ca.trustBundlePem;
    credentials = ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(r.cert.chainPem), private_key: Buffer.from(r.cert.keyPem) }], false);
  }
  const injector = server.createConnectionInjector(credentials);
  if (mode === 'tls-sliced' && !sliceTlsWrites(server)) throw new Error('sliceTlsWrites found no HTTP/2 server');
  const net = createServer((socket) => injector.injectConnection(socket));
  await new Promise<void>((resolve) => net.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve));
  send({ cmd: 'started', port: (net.address() as { port: number }).port, ca });
}

process.on('message', (msg: FloorRequest) => {
  if (msg.cmd === 'start') void start(msg.mode, msg.bytes, msg.responses);
  if (msg.cmd === 'memory') {
    (globalThis as { gc?: () => void }).gc?.();
    const anon = /Anonymous:\s+(\d+) kB/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
    send({ cmd: 'memory', rss: process.memoryUsage().rss, anon: anon ? Number(anon[1]) * 1024 : NaN, heapUsed: process.memoryUsage().heapUsed });
  }
});
