// TLS connections get each stream's data in slices under 16 KiB (xds/server/tls-writes.ts),
// so Node's TLS layer never sizes a buffer to a whole push and keeps it for the connection's
// life. Pinned: slices reach Node one at a time, in order, each after the previous one was
// written; the caller's callback fires once, after the last; the bytes arrive intact over a
// real TLS connection; and grpc-js still keeps the HTTP/2 server where the hook finds it.
import { connect, createSecureServer, type ServerHttp2Stream } from 'node:http2';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { sliceTlsWrites, sliceWrites, TLS_SLICE_BYTES } from '../../xds/server/tls-writes.ts';
import { envoyNode, SotwClient } from './support/client.ts';
import { newCa, startSecureServer, type SecureServer } from '../sds/support.ts';

async function selfSigned(): Promise<{ cert: string; key: string; ca: string }> {
  const ca = await newCa();
  const r = await ca.issueServing({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], ttlMs: 3_600_000, now: new Date() });
  if (!r.ok || r.cert.keyPem === undefined) throw new Error('serving certificate');
  return { cert: r.cert.chainPem, key: r.cert.keyPem, ca: ca.trustBundlePem };
}

describe('sliced TLS writes', () => {
  it('hands Node one slice at a time, the next after the previous was written, and calls back once at the end', async () => {
    const tls = await selfSigned();
    const body = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
    const seen: { bytes: number; pendingBefore: boolean }[] = [];
    let callbacks = 0;
    const server = createSecureServer({ cert: tls.cert, key: tls.key });
    server.on('stream', (stream: ServerHttp2Stream) => {
      sliceWrites(stream);
      sliceWrites(stream); // idempotent
      const s = stream as unknown as { _write: (c: Buffer, e: string, cb: (err?: Error | null) => void) => void };
      const original = s._write.bind(stream);
      let pending = false;
      s._write = (chunk, enc, cb) => {
        seen.push({ bytes: chunk.length, pendingBefore: pending });
        pending = true;
        original(chunk, enc, (err) => {
          pending = false;
          cb(err);
        });
      };
      stream.respond({ ':status': 200 });
      stream.write(body, () => {
        callbacks++;
        stream.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const client = connect(`https://127.0.0.1:${port}`, { ca: tls.ca });
    try {
      const got = await new Promise<Buffer>((resolve, reject) => {
        const req = client.request({ ':path': '/' });
        const parts: Buffer[] = [];
        req.on('data', (d: Buffer) => parts.push(d));
        req.on('end', () => resolve(Buffer.concat(parts)));
        req.on('error', reject);
      });
      expect(got.equals(body)).toBe(true);
      expect(callbacks).toBe(1);
      expect(seen.length).toBe(Math.ceil(body.length / TLS_SLICE_BYTES));
      expect(seen.every((w) => w.bytes <= TLS_SLICE_BYTES && !w.pendingBefore)).toBe(true);
      expect(TLS_SLICE_BYTES + 9 + 256).toBeLessThan(16 * 1024); // a DATA frame and small frames stay under Node's 16 KiB
    } finally {
      client.close();
      await new Promise((r) => server.close(r));
    }
  });

  it('finds the HTTP/2 server grpc-js made for a TLS connection injector', async () => {
    const tls = await selfSigned();
    const server = new Server();
    const creds = ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], false);
    const injector = server.createConnectionInjector(creds);
    try {
      expect(sliceTlsWrites(server)).toBe(true);
    } finally {
      injector.destroy();
      server.forceShutdown();
    }
  });

  describe('an xDS server over TLS', () => {
    let s: SecureServer;
    beforeAll(async () => {
      s = await startSecureServer();
    });
    afterAll(() => s.close());

    it('delivers a response much larger than a slice intact, and the pushes after it', async () => {
      const names = Array.from({ length: 1500 }, (_, i) => `service-with-a-long-name-${i}.namespace-${i % 7}`);
      s.setClusters(names);
      const c = new SotwClient(s.client({ cert: await s.svid('shop', 'a') }), envoyNode('vm-a'));
      c.request(TypeUrl.Cluster);
      const first = await c.next();
      expect(first.resources).toHaveLength(names.length);
      expect(first.resources.reduce((n, r) => n + r.value.length, 0)).toBeGreaterThan(4 * TLS_SLICE_BYTES);
      c.ack(first);
      s.setClusters([...names, 'one-more.shop']);
      const pushed = await c.next();
      expect(pushed.resources).toHaveLength(names.length + 1);
      c.close();
    });
  });
});
