// Finding 7 of issue 13 and the listener timeouts: slow-loris clients. Connections that send
// headers and one body byte, or that never finish (or start) a TLS handshake, must be closed
// within the bounds, on every listener: the webhook (HTTPS), the monitoring port (HTTP) and
// xDS over TLS. Bounds here: handshake 1 s, request 1 s, idle 2 s; each connection must be
// gone within the bound plus 2 s (Node checks request deadlines every second).
import { ServerCredentials } from '@grpc/grpc-js';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa, loadCa, type CertificateAuthority } from '../../src/ca/authority.ts';
import { log } from '../../src/base/log.ts';
import type { ListenerTimeouts } from '../../src/base/listener-timeouts.ts';
import { startMonitoring } from '../../src/runtime/monitoring.ts';
import { startXdsServer } from '../../xds/server/start.ts';
import { startWebhookServer } from '../../webhook/server.ts';
import { testContext } from '../webhook/fixtures.ts';
import { World } from '../xds-server/support/world.ts';

const timeouts: ListenerTimeouts = { handshakeMs: 1000, requestMs: 1000, idleMs: 2000 };
const CONNECTIONS = 50;
let ca: CertificateAuthority;
let tls: { cert: string; key: string };

beforeAll(async () => {
  const r = loadCa(await createRootCa(), { trustDomain: 'cluster.local' });
  if (!r.ok) throw new Error('ca');
  ca = r.ca;
  const s = await ca.issueServing({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  if (!s.ok || !s.cert.keyPem) throw new Error('serving cert');
  tls = { cert: s.cert.chainPem, key: s.cert.keyPem };
});

/** Seconds until each socket closed (Infinity: still open at `withinMs`). */
async function closedWithin(sockets: Socket[], withinMs: number): Promise<number[]> {
  const t0 = performance.now();
  return Promise.all(
    sockets.map(
      (s) =>
        new Promise<number>((resolve) => {
          const t = setTimeout(() => resolve(Infinity), withinMs);
          s.resume(); // read (and drop) what the server says, so its close is seen
          s.once('close', () => {
            clearTimeout(t);
            resolve((performance.now() - t0) / 1000);
          });
        }),
    ),
  );
}

const slowLorisRequest = 'POST /inject HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{';

function plainLoris(port: number): Socket {
  const s = tcpConnect(port, '127.0.0.1', () => s.write(slowLorisRequest));
  s.on('error', () => {});
  return s;
}

function tlsLoris(port: number): Socket {
  const s = tlsConnect({ port, host: '127.0.0.1', ca: ca.trustBundlePem, servername: 'localhost' }, () => s.write(slowLorisRequest));
  s.on('error', () => {});
  return s;
}

/** A TCP connection to a TLS port that never sends its ClientHello. */
function silentTcp(port: number): Socket {
  const s = tcpConnect(port, '127.0.0.1');
  s.on('error', () => {});
  return s;
}

function report(name: string, closed: number[]): void {
  const open = closed.filter((t) => t === Infinity).length;
  const last = Math.max(...closed.filter((t) => t !== Infinity), 0);
  console.log(`attack figures ${JSON.stringify({ listener: name, connections: closed.length, stillOpen: open, lastClosedS: Number(last.toFixed(2)) })}`);
}

describe('attack: slow clients on every listener', () => {
  const servers: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('webhook: headers + one body byte, and handshakes never started, are closed within the bounds', async () => {
    const web = await startWebhookServer({ port: 0, host: '127.0.0.1', tls, injectCtx: () => testContext(), validate: () => ({ allowed: true }), timeouts });
    servers.push(web);
    const loris = Array.from({ length: CONNECTIONS }, () => tlsLoris(web.port));
    const silent = Array.from({ length: CONNECTIONS }, () => silentTcp(web.port));
    const [a, b] = await Promise.all([closedWithin(loris, 5000), closedWithin(silent, 4000)]);
    report('webhook slow request', a);
    report('webhook no handshake', b);
    expect(a.every((t) => t < 3 + 1)).toBe(true); // handshake, then the request bound
    expect(b.every((t) => t < 1 + 2)).toBe(true);
  });

  it('monitoring: headers + one body byte are closed within the request bound', async () => {
    const mon = await startMonitoring({ address: '127.0.0.1:0', log, readiness: {}, debug: {}, timeouts });
    servers.push(mon);
    const loris = Array.from({ length: CONNECTIONS }, () => plainLoris(mon.port));
    const closed = await closedWithin(loris, 4000);
    report('monitoring slow request', closed);
    expect(closed.every((t) => t < 1 + 2)).toBe(true);
  });

  it('xDS over TLS: handshakes never started are closed within the handshake bound', async () => {
    const xds = await startXdsServer({
      address: '127.0.0.1:0',
      cache: new World().cache,
      credentials: ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], false),
      timeouts,
    });
    servers.push(xds);
    const silent = Array.from({ length: CONNECTIONS }, () => silentTcp(xds.port));
    const closed = await closedWithin(silent, 4000);
    report('xds-tls no handshake', closed);
    expect(closed.every((t) => t < 1 + 2)).toBe(true);
  });
});
