// The certificates work where it matters: a real TLS handshake over loopback, both sides
// verifying against the trust bundle, the server reading the client's SPIFFE ID.
import { once } from 'node:events';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createRootCa, loadCa } from '../../src/ca/authority.ts';

describe('mutual TLS with issued certificates', () => {
  it.each(['ecdsa-p256', 'rsa-2048'] as const)('completes with a %s intermediate chain', async (alg) => {
    const root = loadCa(await createRootCa({ keyAlgorithm: alg }), { trustDomain: 'cluster.local' });
    if (!root.ok) throw new Error('root');
    const inter = loadCa(await root.ca.issueIntermediate({ commonName: 'i', keyAlgorithm: alg }), { trustDomain: 'cluster.local' });
    if (!inter.ok) throw new Error('intermediate');
    const ca = inter.ca;
    const server = await ca.issueServing({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const client = await ca.issueSvid({ namespace: 'shop', serviceAccount: 'web' });
    if (!server.ok || !client.ok) throw new Error('issue');

    const seen: string[] = [];
    const srv = createServer(
      { cert: server.cert.chainPem, key: server.cert.keyPem, ca: ca.trustBundlePem, requestCert: true, rejectUnauthorized: true },
      (s: TLSSocket) => {
        seen.push(s.getPeerCertificate().subjectaltname ?? '');
        s.end('ok');
      },
    );
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const { port } = srv.address() as AddressInfo;
    const sock = connect({ port, host: '127.0.0.1', servername: 'localhost', cert: client.cert.chainPem, key: client.cert.keyPem, ca: ca.trustBundlePem });
    await once(sock, 'secureConnect');
    expect(sock.authorized).toBe(true);
    const [data] = (await once(sock, 'data')) as [Buffer];
    expect(data.toString()).toBe('ok');
    sock.destroy();
    srv.close();
    expect(seen).toEqual(['URI:spiffe://cluster.local/ns/shop/sa/web']);
  });
});
