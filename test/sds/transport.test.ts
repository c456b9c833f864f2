// The xDS server's TLS: the serving certificate chains to the mesh root and names the xDS
// host, is renewed without restarting the server (new handshakes get the new certificate,
// open streams keep working); a sidecar authenticates with a bearer token instead of a
// client certificate; and plaintext (no CA) serves no secrets at all.
import { connect, type PeerCertificate } from 'node:tls';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WORKLOAD_CERT_SECRET, TRUST_BUNDLE_SECRET } from '../../xds/resources/names.ts';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { refreshOnRotate, withSecrets } from '../../xds/secrets/generator.ts';
import { WorkloadSecrets } from '../../xds/secrets/workload-secrets.ts';
import { startXdsServer } from '../../xds/server/start.ts';
import { SnapshotCache } from '../../xds/snapshot/cache.ts';
import { envoyNode, newGrpcClient, SotwClient } from '../xds-server/support/client.ts';
import { cluster, resourceSet } from '../xds-server/support/resources.ts';
import { meshModel } from '../xds-server/support/world.ts';
import { newIssuer } from '../identity/support.ts';
import { newCa, secretsOf, startSecureServer, type SecureServer } from './support.ts';
import { ManualClock } from '../support/manual-clock.ts';

function peerCert(port: number, ca: string, servername: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port, ca, servername, ALPNProtocols: ['h2'] }, () => {
      const cert = sock.getPeerCertificate();
      sock.end();
      resolve(cert);
    });
    sock.on('error', reject);
  });
}

describe('xDS serving certificate', () => {
  let s: SecureServer;
  const clock = new ManualClock(); // certificate time only: TLS and gRPC run on real timers
  beforeAll(async () => {
    s = await startSecureServer({ servingTtlMs: 3_000, clock });
  });
  afterAll(() => s.close());

  it('verifies against the trust bundle for the names in its SANs, and rotates without a restart', async () => {
    const first = await peerCert(s.server.port, s.ca.trustBundlePem, 'localhost');
    expect(first.subjectaltname).toMatch(/DNS:localhost/);
    expect(first.subjectaltname).toMatch(/IP Address:127\.0\.0\.1/);
    expect(first.serialNumber).toBe(s.security.status().serving.serial);

    // A stream opened on the first certificate...
    const c = new SotwClient(s.client({ cert: await s.svid('shop', 'a') }), envoyNode('vm-a'));
    c.request(TypeUrl.Cluster);
    c.ack(await c.next());

    // ...the server renews at about half of the 3 s life (1.2–1.8 s); new handshakes see the new one.
    clock.advance(1_900);
    await vi.waitFor(() => expect(s.security.status().serving.serial).not.toBe(first.serialNumber), { timeout: 5_000 });
    const rotated = await peerCert(s.server.port, s.ca.trustBundlePem, 'localhost');
    expect(rotated.serialNumber).not.toBe(first.serialNumber);
    expect(rotated.serialNumber).toBe(s.security.status().serving.serial);

    // The open stream still gets pushes.
    s.setClusters(['a.shop', 'b.shop']);
    const pushed = await c.next();
    expect(pushed.resources).toHaveLength(2);
    c.close();
  }, 15_000);

  it('is refused by a client that trusts another root', async () => {
    const other = await newCa();
    await expect(peerCert(s.server.port, other.trustBundlePem, 'localhost')).rejects.toThrow(/self-signed|unable to verify|certificate/i);
  });
});

describe('bearer-token authentication over TLS', () => {
  const issuer = newIssuer();
  const pods = new Map([['shop/web-1', { uid: 'uid-web-1', serviceAccount: 'web' }]]);
  let s: SecureServer;
  beforeAll(async () => {
    s = await startSecureServer({
      tokens: { jwks: { fetch: async () => issuer.jwks, issuer: issuer.issuer }, podLookup: (ns, name) => pods.get(`${ns}/${name}`) },
    });
  });
  afterAll(() => s.close());

  it("serves a sidecar presenting its pod's token the token's identity", async () => {
    const c = new SotwClient(s.client({ token: issuer.token() }), envoyNode('web-1.shop'));
    c.request(TypeUrl.Secret, [WORKLOAD_CERT_SECRET, TRUST_BUNDLE_SECRET]);
    const secrets = secretsOf(await c.next());
    expect(secrets.map((x) => x.name)).toEqual([TRUST_BUNDLE_SECRET, WORKLOAD_CERT_SECRET]);
    expect(secrets[1]!.uriSans).toEqual(['spiffe://cluster.local/ns/shop/sa/web']);
    c.close();
  });

  it('refuses a token for another audience with the reason in the stream status', async () => {
    const c = new SotwClient(s.client({ token: issuer.token({ aud: ['other'] }) }), envoyNode('web-1.shop'));
    c.request(TypeUrl.Secret, [WORKLOAD_CERT_SECRET]);
    const st = await c.status;
    expect(st.code).toBe(status.UNAUTHENTICATED);
    expect(st.details).toMatch(/audience/);
  });
});

describe('plaintext (no CA)', () => {
  it('serves no secrets: the identity is unknown', async () => {
    const ca = await newCa();
    const secrets = new WorkloadSecrets({ ca });
    const base = () => resourceSet({ clusters: [cluster('a.shop')] });
    expect(
      withSecrets(base, (id) => secrets.secretsFor(id))(meshModel('m1'), { id: 'x', kind: 'sidecar', namespace: 'shop', labels: {}, capture: true }).secrets,
    ).toEqual([]);

    const cache = new SnapshotCache({ generate: withSecrets(base, (id) => secrets.secretsFor(id)), model: meshModel('m1') });
    const offRotate = refreshOnRotate(cache, secrets);
    const server = await startXdsServer({ address: '127.0.0.1:0', cache, debounce: { holdoffMs: 20, maxDelayMs: 200 } });
    const client = newGrpcClient(server.port);
    const c = new SotwClient(client, envoyNode('dev'));
    c.request(TypeUrl.Secret, [WORKLOAD_CERT_SECRET, TRUST_BUNDLE_SECRET]);
    await c.silence(400);
    c.request(TypeUrl.Cluster);
    expect((await c.next()).resources).toHaveLength(1);
    c.close();
    client.close();
    await server.close();
    offRotate();
    secrets.close();
  });
});
