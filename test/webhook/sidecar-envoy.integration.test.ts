// The injected bootstrap run by a real Envoy: it dials the xDS address over TLS, verifying the
// server against the inlined trust bundle, and presents the projected token from its file as
// `authorization: Bearer <token>` — re-read on every new stream, so a token the kubelet rotated
// is what the next reconnect carries. The stand-in ADS server (node:http2 over TLS with a
// certificate from our CA) records each stream's headers; until it answers, Envoy stays
// unready and serves nothing (within its bounded initial fetches), then it answers the
// initial CDS and LDS requests with empty responses, Envoy initializes, and the readiness
// listener's app-probe route is checked against a real app. (What happens when the initial
// fetches time out is test/bootstrap/probes-without-control-plane.integration.test.ts.) Ending the streams UNAVAILABLE makes Envoy
// reconnect with the rotated token.
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createSecureServer, type IncomingHttpHeaders as H2Headers, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { afterAll, describe, expect, it } from 'vitest';
import { createRootCa, loadCa } from '../../src/ca/authority.ts';
import { DiscoveryRequestSchema, DiscoveryResponseSchema } from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { renderSidecarBootstrap, SIDECAR_INITIAL_FETCH_TIMEOUT_MS } from '../../xds/bootstrap/sidecar.ts';
import { startEnvoy, type EnvoyHandle } from '../support/envoy.ts';
import { freePorts } from '../support/free-port.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('sidecar bootstrap in a real Envoy', () => {
  it('authenticates to xDS with the token file over verified TLS and serves rewritten app probes', async () => {
    const ca = loadCa(await createRootCa(), { trustDomain: 'cluster.local' });
    if (!ca.ok) throw new Error('ca');
    const serving = await ca.ca.issueServing({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    if (!serving.ok || !serving.cert.keyPem) throw new Error('serving');

    // Initial (nonce-less) subscription requests are held until `answering`, then answered
    // with an empty response of their type; ACKs are not answered (no loop).
    const streams: H2Headers[] = [];
    const open = new Set<ServerHttp2Stream>();
    const pending: { stream: ServerHttp2Stream; typeUrl: string }[] = [];
    let answering = false;
    let nonce = 0;
    const answer = ({ stream, typeUrl }: { stream: ServerHttp2Stream; typeUrl: string }) => {
      const body = toBinary(DiscoveryResponseSchema, create(DiscoveryResponseSchema, { typeUrl, versionInfo: '1', nonce: String(++nonce) }));
      const frame = Buffer.alloc(5 + body.length);
      frame.writeUInt32BE(body.length, 1);
      frame.set(body, 5);
      if (!stream.closed) stream.write(frame);
    };
    const xds = createSecureServer({ cert: serving.cert.chainPem, key: serving.cert.keyPem });
    xds.on('stream', (stream, headers) => {
      streams.push(headers);
      open.add(stream);
      stream.on('close', () => open.delete(stream));
      stream.on('error', () => {});
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '14', 'grpc-message': 'test server hangs up' }));
      let buf = Buffer.alloc(0);
      stream.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        // gRPC length-prefixed messages: 1 byte compressed flag, 4 bytes big-endian length.
        while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32BE(1)) {
          const req = fromBinary(DiscoveryRequestSchema, buf.subarray(5, 5 + buf.readUInt32BE(1)));
          buf = buf.subarray(5 + buf.readUInt32BE(1));
          if (req.responseNonce !== '') continue;
          const r = { stream, typeUrl: req.typeUrl };
          if (answering) answer(r);
          else pending.push(r);
        }
      });
    });
    xds.listen(0, '127.0.0.1');
    await once(xds, 'listening');
    cleanups.push(() => new Promise((r) => xds.close(r)));

    const probes: IncomingHttpHeaders[] = [];
    const app = createHttpServer((req, res) => {
      probes.push({ ...req.headers, path: req.url });
      res.end('app-ok');
    });
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    cleanups.push(() => new Promise((r) => app.close(r)));

    const dir = await mkdtemp(join(tmpdir(), 'weft-token-'));
    const tokenPath = join(dir, 'token');
    await writeFile(tokenPath, 'token-one');
    const [readiness = 0, stats = 0] = await freePorts(2);
    const bootstrap = renderSidecarBootstrap({
      delta: false, // the fake server above speaks SotW; Delta sidecars: test/bootstrap, test/xds-server
      namespace: 'shop',
      labels: { app: 'web' },
      xdsAddress: `127.0.0.1:${(xds.address() as AddressInfo).port}`,
      trustBundlePem: ca.ca.trustBundlePem,
      tokenPath,
      appProbes: [
        {
          path: '/app-health/web/readyz',
          port: (app.address() as AddressInfo).port,
          originalPath: '/ready?deep=1',
          headers: [{ name: 'x-probe', value: 'kubelet' }],
          timeoutSeconds: 2,
        },
      ],
      ports: { readiness, stats },
    });
    const started = Date.now();
    const envoy: EnvoyHandle = await startEnvoy({ bootstrapYaml: bootstrap, waitFor: 'admin' });
    cleanups.push(() => envoy.stop());

    const first = await until('the first ADS stream', () => streams[0], 30_000);
    expect(first[':path']).toBe('/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources');
    expect(first.authorization).toBe('Bearer token-one');

    // No config yet, and the initial fetches (5 s each, CDS then LDS) have not timed out:
    // Envoy is not ready and its static listeners serve nothing. Checked 2 s after the CDS
    // request, and only while well inside those 10 s (a very slow start skips the check).
    await until('the initial CDS request', () => pending[0], 30_000);
    await sleep(2_000);
    const inWindow = Date.now() - started < 2 * SIDECAR_INITIAL_FETCH_TIMEOUT_MS - 2_000;
    const readinessNow = () =>
      fetch(`http://127.0.0.1:${readiness}/healthz/ready`, { signal: AbortSignal.timeout(1_000) }).then(
        (r) => r.status,
        () => 'no answer',
      );
    if (inWindow) {
      expect(await readinessNow()).toBe('no answer');
      expect((await fetch(`${envoy.adminUrl}/ready`)).status).toBe(503);
    } else console.warn(`[sidecar-envoy] Envoy took ${Date.now() - started} ms to ask for CDS; the before-config check is skipped`);

    answering = true;
    for (const r of pending.splice(0)) answer(r);
    await until('admin /ready', async () => ((await fetch(`${envoy.adminUrl}/ready`)).ok ? true : undefined), 30_000);
    // The listener answers now; 503, as the empty CDS lacks the cluster readiness waits for.
    expect(await readinessNow()).toBe(503);
    const res = await fetch(`http://127.0.0.1:${readiness}/app-health/web/readyz`);
    expect(await res.text()).toBe('app-ok');
    expect(probes.at(-1)).toMatchObject({ path: '/ready?deep=1', 'x-probe': 'kubelet' });

    // The kubelet rewrites the projected token in place; the next stream must carry the new one.
    await writeFile(tokenPath, 'token-two');
    for (const stream of open) stream.end();
    const rotated = await until('a stream with the rotated token', () => streams.find((h) => h.authorization === 'Bearer token-two'), 30_000);
    expect(rotated[':authority']).toContain('127.0.0.1');
  }, 120_000);

  it('refuses an xDS server whose certificate does not chain to the trust bundle', async () => {
    const trusted = loadCa(await createRootCa(), { trustDomain: 'cluster.local' });
    const other = loadCa(await createRootCa(), { trustDomain: 'cluster.local' });
    if (!trusted.ok || !other.ok) throw new Error('ca');
    const serving = await other.ca.issueServing({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    if (!serving.ok || !serving.cert.keyPem) throw new Error('serving');
    let streams = 0;
    let handshakes = 0;
    const xds = createSecureServer({ cert: serving.cert.chainPem, key: serving.cert.keyPem });
    xds.on('stream', (stream) => {
      streams++;
      stream.close();
    });
    xds.on('connection', () => handshakes++);
    xds.listen(0, '127.0.0.1');
    await once(xds, 'listening');
    cleanups.push(() => new Promise((r) => xds.close(r)));
    const dir = await mkdtemp(join(tmpdir(), 'weft-token-'));
    await writeFile(join(dir, 'token'), 'secret-token');
    const [readiness = 0, stats = 0] = await freePorts(2);
    const envoy = await startEnvoy({
      bootstrapYaml: renderSidecarBootstrap({
        namespace: 'shop',
        labels: {},
        xdsAddress: `127.0.0.1:${(xds.address() as AddressInfo).port}`,
        trustBundlePem: trusted.ca.trustBundlePem,
        tokenPath: join(dir, 'token'),
        ports: { readiness, stats },
      }),
      waitFor: 'admin',
    });
    cleanups.push(() => envoy.stop());
    // Envoy dials (a TCP connection arrives) but the handshake fails, so no stream, and the
    // token is never sent to an unverified server.
    await until('a connection attempt', () => (handshakes > 0 ? true : undefined), 30_000);
    await sleep(3_000);
    expect(streams).toBe(0);
  }, 60_000);
});
