// Direct reads (xds/server/zero-copy.ts): an uncompressed request the application is waiting
// for skips grpc-js's queue; everything else takes grpc-js's own path. Pins the hook against
// this grpc-js and holds it to grpc-js's contract on a real server and client: every message,
// in order, whether the reader keeps up, pauses, or the client compresses.
import { credentials, Server, ServerCredentials, makeGenericClientConstructor, type ServerDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directReads, installDirectReads } from '../../xds/server/zero-copy.ts';

const raw = (b: Buffer): Buffer => b;
const service: ServiceDefinition = {
  chat: {
    path: '/test.Echo/Chat',
    requestStream: true,
    responseStream: true,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  },
};
const Client = makeGenericClientConstructor(service, 'Echo');

interface Received {
  readonly got: string[];
  readonly done: Promise<void>;
}

let server: Server;
let port = 0;
let onCall: (call: ServerDuplexStream<Buffer, Buffer>) => void = () => {};

beforeAll(async () => {
  expect(installDirectReads()).toBe(true);
  expect(installDirectReads()).toBe(true); // idempotent
  server = new Server();
  server.addService(service, { chat: (call: ServerDuplexStream<Buffer, Buffer>) => onCall(call) });
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
});

afterAll(() => server.forceShutdown());

/** Sends `n` messages on one stream and collects what the server reads, with `read` deciding how it reads. */
function exchange(n: number, read: (call: ServerDuplexStream<Buffer, Buffer>, r: Received) => void, options: Record<string, number> = {}): Promise<string[]> {
  const got: string[] = [];
  let finish = (): void => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  onCall = (call) => {
    call.on('end', () => {
      call.end();
      finish();
    });
    read(call, { got, done });
  };
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), options) as unknown as {
    chat(): { write(b: Buffer): boolean; end(): void; on(e: string, f: () => void): void };
    close(): void;
  };
  const stream = client.chat();
  stream.on('data', () => {});
  stream.on('error', () => {});
  for (let i = 0; i < n; i++) stream.write(Buffer.from(`m${i}:${'x'.repeat(i % 7 === 0 ? 6000 : 20)}`));
  stream.end();
  return done.then(() => {
    client.close();
    return got;
  });
}

const expected = (n: number): string[] => Array.from({ length: n }, (_, i) => `m${i}`);
const label = (b: Buffer): string => b.toString('latin1', 0, b.indexOf(':'));

describe('direct reads', () => {
  it('delivers every message in order to a reader that keeps up, most of them at once', async () => {
    const before = { ...directReads };
    const got = await exchange(2000, (call, r) => call.on('data', (b: Buffer) => r.got.push(label(b))));
    expect(got).toEqual(expected(2000));
    expect(directReads.direct - before.direct).toBeGreaterThan(0);
  });

  it('keeps back-pressure: a paused reader gets nothing until it resumes, then everything in order', async () => {
    const got = await exchange(500, (call, r) => {
      let paused = false;
      call.on('data', (b: Buffer) => {
        expect(paused).toBe(false);
        r.got.push(label(b));
        if (r.got.length % 100 === 0) {
          paused = true;
          call.pause();
          setTimeout(() => {
            paused = false;
            call.resume();
          }, 20);
        }
      });
    });
    expect(got).toEqual(expected(500));
  });

  it("takes grpc-js's path for compressed messages, in the same order", async () => {
    const before = { ...directReads };
    const got = await exchange(300, (call, r) => call.on('data', (b: Buffer) => r.got.push(label(b))), {
      'grpc.default_compression_algorithm': 2, // gzip
      'grpc.default_compression_level': 2,
    });
    expect(got).toEqual(expected(300));
    expect(directReads.queued - before.queued).toBeGreaterThanOrEqual(300);
  });
});
