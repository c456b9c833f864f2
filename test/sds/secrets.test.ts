// SDS over the ADS stream, through a real TLS xDS server and real grpc-js clients: a proxy
// authenticated by its client certificate receives its own workload certificate and the trust
// bundle, never another identity's, and nothing at all without a credential.
import { status } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscoveryRequestSchema, type DiscoveryResponse } from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { TRUST_BUNDLE_SECRET, WORKLOAD_CERT_SECRET } from '../../xds/resources/names.ts';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { secretDiscoveryService as sds } from '../../xds/server/service-definitions.ts';
import { DeltaClient, envoyNode, SotwClient } from '../xds-server/support/client.ts';
import { metricValue } from '../xds-server/support/harness.ts';
import { newCa, secretsOf, startSecureServer, type SecureServer } from './support.ts';

const A = 'spiffe://cluster.local/ns/shop/sa/a';
const B = 'spiffe://cluster.local/ns/shop/sa/b';

describe('SDS per authenticated identity', () => {
  let s: SecureServer;
  let certA: { chainPem: string; keyPem: string };
  let certB: { chainPem: string; keyPem: string };
  beforeAll(async () => {
    s = await startSecureServer();
    certA = await s.svid('shop', 'a');
    certB = await s.svid('shop', 'b');
  });
  afterAll(() => s.close());

  it('gives a client-certificate proxy its own workload certificate and the trust bundle', async () => {
    const c = new SotwClient(s.client({ cert: certA }), envoyNode('vm-a'));
    c.request(TypeUrl.Secret, [WORKLOAD_CERT_SECRET, TRUST_BUNDLE_SECRET]);
    const res = await c.next();
    const secrets = secretsOf(res);
    expect(secrets.map((x) => x.name)).toEqual([TRUST_BUNDLE_SECRET, WORKLOAD_CERT_SECRET]);
    expect(secrets[0]!.trustedCa).toBe(s.ca.trustBundlePem);
    expect(secrets[1]).toMatchObject({ uriSans: [A], keyMatches: true });
    // The workload certificate is issued by the server, not the one the client presented.
    expect(secrets[1]!.chainPem).not.toBe(certA.chainPem);
    c.close();
  });

  it('never hands identity A anything of identity B, whatever names A asks for', async () => {
    const b = new SotwClient(s.client({ cert: certB }), envoyNode('vm-b'));
    b.request(TypeUrl.Secret, [WORKLOAD_CERT_SECRET]);
    const bSecret = secretsOf(await b.next())[0]!;
    expect(bSecret.uriSans).toEqual([B]);

    // A node that claims to be B changes nothing: identity comes from the certificate.
    const a = new SotwClient(s.client({ cert: certA }), envoyNode('b.shop', { WEFT_SERVICE: 'b' }));
    a.request(TypeUrl.Secret, [B, 'b', `${WORKLOAD_CERT_SECRET}/${B}`, 'spiffe://cluster.local/ns/shop/sa/b#default']);
    await a.silence(400);
    a.request(TypeUrl.Secret, [B, WORKLOAD_CERT_SECRET]);
    const got: DiscoveryResponse = await a.next();
    const secrets = secretsOf(got);
    expect(secrets.map((x) => x.name)).toEqual([WORKLOAD_CERT_SECRET]);
    expect(secrets[0]!.uriSans).toEqual([A]);
    expect(secrets[0]!.serial).not.toBe(bSecret.serial);
    expect(secrets[0]!.keyPem).not.toBe(bSecret.keyPem);
    expect(Buffer.from(JSON.stringify(got.resources.map((r) => Buffer.from(r.value).toString('base64'))))).not.toContain(bSecret.keyPem!.slice(40, 80));

    // Delta: an explicit subscription to B's names is answered "does not exist", nothing more.
    const d = new DeltaClient(s.client({ cert: certA }), envoyNode('vm-a-delta'));
    d.send({ typeUrl: TypeUrl.Secret, resourceNamesSubscribe: [B, 'b'] });
    const delta = await d.next();
    expect(delta.resources).toEqual([]);
    expect([...delta.removedResources].sort()).toEqual(['b', B]);
    await d.silence(300);
    a.close();
    b.close();
    d.close();
  });

  it("answers FetchSecrets with the caller's own secret only", async () => {
    const client = s.client({ cert: certA });
    const res = await new Promise<DiscoveryResponse>((resolve, reject) =>
      client.makeUnaryRequest(
        sds.FetchSecrets.path,
        sds.FetchSecrets.requestSerialize,
        sds.FetchSecrets.responseDeserialize,
        create(DiscoveryRequestSchema, { node: envoyNode('vm-a'), typeUrl: TypeUrl.Secret, resourceNames: [WORKLOAD_CERT_SECRET, B] }),
        (err, value) => (err ? reject(err) : resolve(value!)),
      ),
    );
    expect(secretsOf(res).map((x) => [x.name, x.uriSans])).toEqual([[WORKLOAD_CERT_SECRET, [A]]]);
  });

  it('refuses a stream with no credential, UNAUTHENTICATED, with a reason', async () => {
    const before = await metricValue('weft_xds_auth_total', { method: 'none', reason: 'no_credential' });
    const c = new SotwClient(s.client(), envoyNode('anonymous'));
    c.request(TypeUrl.Secret, [WORKLOAD_CERT_SECRET]);
    const st = await c.status;
    expect(st.code).toBe(status.UNAUTHENTICATED);
    expect(st.details).toMatch(/no credential/);
    expect(await metricValue('weft_xds_auth_total', { method: 'none', reason: 'no_credential' })).toBe(before + 1);
  });

  it('ignores a client certificate from another CA (TLS completes, the certificate confers nothing)', async () => {
    const other = await newCa();
    const r = await other.issueSvid({ namespace: 'shop', serviceAccount: 'a' });
    if (!r.ok) throw new Error(r.reason);
    const c = new SotwClient(s.client({ cert: { chainPem: r.cert.chainPem, keyPem: r.cert.keyPem! } }), envoyNode('forged'));
    c.request(TypeUrl.Secret, [WORKLOAD_CERT_SECRET]);
    const st = await c.status;
    expect(st.code).toBe(status.UNAUTHENTICATED);
    expect(st.details).toMatch(/no credential/);
  });

  it('refuses a CA-issued certificate that is not an SVID (the xDS serving certificate)', async () => {
    const r = await s.ca.issueServing({ dnsNames: ['localhost'] });
    if (!r.ok) throw new Error(r.reason);
    // A serverAuth-only certificate fails TLS client verification, so it is "no credential".
    const c = new SotwClient(s.client({ cert: { chainPem: r.cert.chainPem, keyPem: r.cert.keyPem! } }), envoyNode('server-cert'));
    c.request(TypeUrl.Secret, [WORKLOAD_CERT_SECRET]);
    expect((await c.status).code).toBe(status.UNAUTHENTICATED);
  });

  it('refuses a bearer token when no token verifier is configured, even with a valid certificate', async () => {
    const c = new SotwClient(s.client({ cert: certA, token: 'abc.def.ghi' }), envoyNode('vm-a'));
    c.request(TypeUrl.Secret, [WORKLOAD_CERT_SECRET]);
    const st = await c.status;
    expect(st.code).toBe(status.UNAUTHENTICATED);
    expect(st.details).toMatch(/bearer tokens are not accepted/);
  });
});

describe('workload certificate rotation', () => {
  let s: SecureServer;
  beforeAll(async () => {
    s = await startSecureServer({ workloadCertTtlMs: 4_000 });
  });
  afterAll(() => s.close());

  it('renews at about half life and pushes the new certificate on the open stream', async () => {
    const c = new SotwClient(s.client({ cert: await s.svid('shop', 'a') }), envoyNode('vm-a'));
    c.request(TypeUrl.Secret, [WORKLOAD_CERT_SECRET]);
    const first = await c.next();
    c.ack(first);
    const [cert1] = secretsOf(first);
    const t0 = Date.now();
    const second = await c.next(6_000);
    const elapsed = Date.now() - t0;
    c.ack(second);
    const [cert2] = secretsOf(second);
    expect(second.versionInfo).not.toBe(first.versionInfo);
    expect(cert2!.serial).not.toBe(cert1!.serial);
    expect(cert2).toMatchObject({ uriSans: [A], keyMatches: true });
    expect(cert2!.keyPem).not.toBe(cert1!.keyPem);
    // 4 s lifetime from issuance, renewed 2 s ± 0.4 s after it (not at once, though notBefore
    // is backdated a minute for clock skew).
    expect(elapsed).toBeGreaterThan(1_000);
    expect(elapsed).toBeLessThan(4_000);
    // And again: renewals keep coming while the proxy stays connected.
    const third = await c.next(6_000);
    expect(secretsOf(third)[0]!.serial).not.toBe(cert2!.serial);
    c.close();
  }, 20_000);
});
