// The client side of `bench tls-floor` (bench/tls-floor.ts), in its own process so that its
// memory is not the server's: `connections` HTTP/2 connections, each with one gRPC stream that
// sends a 5 KB request, reads every response, then stays open and idle. `window`: Envoy's
// HTTP/2 windows for an xDS cluster (256 MiB) instead of Node's 64 KiB default, so the server
// may send a whole response in one write, as it does to a real sidecar.
import { connect, type ClientHttp2Session } from 'node:http2';

export type FloorClientRequest = {
  readonly cmd: 'connect';
  readonly port: number;
  readonly ca: string;
  readonly connections: number;
  readonly expect: number;
  readonly envoyWindows: boolean;
};
export type FloorClientReply = { readonly cmd: 'connected'; readonly ms: number };

const ENVOY_WINDOW = 256 * 1024 * 1024;
const open: ClientHttp2Session[] = [];
const request = Buffer.alloc(5005, 1);
request.writeUInt32BE(5000, 1); // gRPC frame: not compressed, 5,000 bytes

function one(m: FloorClientRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    const settings = m.envoyWindows ? { settings: { initialWindowSize: ENVOY_WINDOW } } : {};
    const session = connect(`${m.ca ? 'https' : 'http'}://127.0.0.1:${m.port}`, { ...(m.ca ? { ca: m.ca } : {}), ...settings });
    open.push(session);
    session.on('error', reject);
    if (m.envoyWindows) session.on('connect', () => session.setLocalWindowSize(ENVOY_WINDOW));
    const stream = session.request({ ':method': 'POST', ':path': '/floor.Floor/Stream', 'content-type': 'application/grpc', te: 'trailers' });
    let got = 0;
    stream.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= m.expect) resolve();
    });
    stream.on('error', reject);
    stream.write(request);
  });
}

process.on('message', (m: FloorClientRequest) => {
  void (async () => {
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < m.connections) {
          next++;
          await one(m);
        }
      }),
    );
    process.send?.({ cmd: 'connected', ms: performance.now() - t0 } satisfies FloorClientReply);
  })();
});
