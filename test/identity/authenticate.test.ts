// The Authenticate hook's decisions on each kind of credential, and what makes a client
// certificate an identity (exactly one SPIFFE URI SAN of our trust domain, not a CA, usable
// for client auth). Calls are real grpc-js Metadata with the peer certificate an authorized
// TLS socket would expose.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { createRootCa, loadCa } from '../../src/ca/authority.ts';
import { signatureSchemeFor } from '../../src/ca/keys.ts';
import { buildCertificate, Eku, KeyUsage, parseCertificate } from '../../src/ca/x509.ts';
import { createAuthenticator } from '../../src/identity/authenticate.ts';
import { identityFromCertificate } from '../../src/identity/client-cert.ts';
import { podLookupFromIndex } from '../../src/identity/pod-lookup.ts';
import { NodeSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { AuthCall } from '../../src/identity/auth-hook.ts';
import { metricValue } from '../xds-server/support/harness.ts';

const node = create(NodeSchema, { id: 'claims-to-be-admin.kube-system' });

function call(opts: { authorization?: string[]; certPem?: string } = {}): AuthCall {
  const metadata = new Metadata();
  for (const a of opts.authorization ?? []) metadata.add('authorization', a);
  const raw = opts.certPem ? new X509Certificate(opts.certPem).raw : undefined;
  return {
    metadata,
    getPeer: () => '127.0.0.1:5555',
    getAuthContext: () => (raw ? { transportSecurityType: 'ssl', sslPeerCertificate: { raw } as never } : {}),
  };
}

async function setup() {
  const r = loadCa(await createRootCa(), { trustDomain: 'cluster.local' });
  if (!r.ok) throw new Error('ca');
  const ca = r.ca;
  const svid = async (ns: string, sa: string) => {
    const c = await ca.issueSvid({ namespace: ns, serviceAccount: sa });
    if (!c.ok) throw new Error(c.reason);
    return c.cert.certPem;
  };
  /** A certificate with arbitrary SANs signed by the CA (what a misconfigured issuer could produce). */
  const custom = (uris: string[], eku: string[] = [Eku.clientAuth]) => {
    const caKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const self = { selfKey: caKey.privateKey, scheme: signatureSchemeFor(caKey.privateKey) as never };
    const leaf = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const caPem = buildCertificate(
      {
        subject: { commonName: 'x' },
        publicKey: caKey.publicKey,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 3_600_000),
        ca: {},
        keyUsage: [KeyUsage.keyCertSign],
      },
      self,
    );
    const signer = { cert: parseCertificate(new Uint8Array(new X509Certificate(caPem).raw)), key: caKey.privateKey, scheme: self.scheme };
    return buildCertificate(
      {
        subject: {},
        publicKey: leaf.publicKey,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 3_600_000),
        keyUsage: [KeyUsage.digitalSignature],
        extKeyUsage: eku,
        san: { uris },
      },
      signer,
    );
  };
  return { ca, svid, custom };
}

describe('identityFromCertificate', () => {
  it('reads the SPIFFE ID of an SVID and refuses everything that is not one', async () => {
    const { ca, svid, custom } = await setup();
    const der = (pem: string) => new Uint8Array(new X509Certificate(pem).raw);
    expect(identityFromCertificate(der(await svid('shop', 'web')), 'cluster.local')).toEqual({ ok: true, identity: 'spiffe://cluster.local/ns/shop/sa/web' });
    expect(identityFromCertificate(der(await svid('shop', 'web')), 'other.domain')).toMatchObject({ ok: false, reason: expect.stringMatching(/trust domain/) });
    expect(identityFromCertificate(der(ca.certPem), 'cluster.local')).toMatchObject({ ok: false, reason: expect.stringMatching(/CA certificate/) });
    const serving = await ca.issueServing({ dnsNames: ['weft.weft-system.svc'] });
    if (!serving.ok) throw new Error('serving');
    expect(identityFromCertificate(der(serving.cert.certPem), 'cluster.local')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/client authentication/),
    });
    expect(identityFromCertificate(der(custom([])), 'cluster.local')).toMatchObject({ ok: false, reason: expect.stringMatching(/found 0/) });
    expect(identityFromCertificate(der(custom(['spiffe://cluster.local/ns/a/sa/a', 'spiffe://cluster.local/ns/b/sa/b'])), 'cluster.local')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/found 2/),
    });
    expect(identityFromCertificate(der(custom(['spiffe://cluster.local/admin'])), 'cluster.local')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not a workload SPIFFE ID/),
    });
    expect(identityFromCertificate(new Uint8Array([1, 2, 3]), 'cluster.local')).toMatchObject({ ok: false });
  });
});

describe('createAuthenticator', () => {
  const verified = {
    ok: true as const,
    token: { identity: 'spiffe://cluster.local/ns/shop/sa/web', namespace: 'shop', serviceAccount: 'web', pod: { name: 'p', uid: 'u' }, expiresAt: new Date() },
  };

  it('takes the identity from the token, never from node.id, and judges a token call by the token alone', async () => {
    const { svid } = await setup();
    const seen: string[] = [];
    const auth = createAuthenticator({
      trustDomain: 'cluster.local',
      tokens: { verify: async (t) => (seen.push(t), t === 'good.tok.en' ? verified : { ok: false, code: 'expired', reason: 'token expired' }) },
    });
    expect(await auth(call({ authorization: ['Bearer good.tok.en'] }), node)).toEqual({
      ok: true,
      identity: verified.token.identity,
      scope: { namespace: 'shop', serviceAccount: 'web' },
    });
    expect(seen).toEqual(['good.tok.en']);
    // A bad token with a good certificate is still refused: the token is what the proxy presented.
    const before = await metricValue('weft_xds_auth_total', { method: 'token', result: 'rejected', reason: 'expired' });
    expect(await auth(call({ authorization: ['Bearer bad.tok.en'], certPem: await svid('shop', 'vm') }), node)).toEqual({ ok: false, reason: 'token expired' });
    expect(await metricValue('weft_xds_auth_total', { method: 'token', result: 'rejected', reason: 'expired' })).toBe(before + 1);
  });

  it.each<[string, string[], RegExp]>([
    ['two authorization headers', ['Bearer a.b.c', 'Bearer d.e.f'], /more than one/],
    ['a Basic header', ['Basic dXNlcjpwYXNz'], /Bearer <token>/],
    ['an empty bearer', ['Bearer '], /Bearer <token>/],
  ])('refuses %s', async (_n, authorization, reason) => {
    const auth = createAuthenticator({ trustDomain: 'cluster.local', tokens: { verify: async () => verified } });
    expect(await auth(call({ authorization }), node)).toMatchObject({ ok: false, reason: expect.stringMatching(reason) });
  });

  it('accepts an SVID client certificate unless certificates are disabled; nothing at all is refused', async () => {
    const { svid } = await setup();
    const pem = await svid('vms', 'db');
    expect(await createAuthenticator({ trustDomain: 'cluster.local' })(call({ certPem: pem }), node)).toEqual({
      ok: true,
      identity: 'spiffe://cluster.local/ns/vms/sa/db',
      scope: { namespace: 'vms', serviceAccount: 'db' },
    });
    const tokensOnly = createAuthenticator({ trustDomain: 'cluster.local', clientCertificates: false, tokens: { verify: async () => verified } });
    expect(await tokensOnly(call({ certPem: pem }), node)).toMatchObject({ ok: false, reason: expect.stringMatching(/ServiceAccount token/) });
    expect(await createAuthenticator({ trustDomain: 'cluster.local' })(call(), node)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no credential: present a client certificate/),
    });
  });
});

describe('podLookupFromIndex', () => {
  const podInfo = (uid: string, annotations: Record<string, string> = {}) => ({ uid, serviceAccount: 'web', labels: { app: 'web' }, annotations });

  it('answers from the index, and "try again" (a throw) for a missing pod before sync', () => {
    let synced = false;
    const pods = new Map([['shop/web-1', podInfo('u1')]]);
    const lookup = podLookupFromIndex({
      get synced() {
        return synced;
      },
      pod: (ns, n) => pods.get(`${ns}/${n}`) as never,
    });
    expect(lookup('shop', 'web-1')).toEqual({ uid: 'u1', serviceAccount: 'web', labels: { app: 'web' }, egress: { source: 'none' } });
    expect(() => lookup('shop', 'web-2')).toThrow(/not synced/);
    synced = true;
    expect(lookup('shop', 'web-2')).toBeUndefined();
  });

  it("tells the egress scope: the Pod's annotation, else its Namespace's, else the default; an invalid one unscopes and is reported once", () => {
    const pods = new Map([
      ['shop/own', podInfo('u1', { 'weft.dev/egress': './checkout, payments/*' })],
      ['shop/plain', podInfo('u2')],
      ['bad/plain', podInfo('u3')],
      ['other/plain', podInfo('u4')],
    ]);
    const namespaces = new Map([
      ['shop', { annotations: { 'weft.dev/egress': './*' } }],
      ['bad', { annotations: { 'weft.dev/egress': 'checkout' } }],
    ]);
    const problems: unknown[] = [];
    const lookup = podLookupFromIndex(
      { synced: true, pod: (ns, n) => pods.get(`${ns}/${n}`) as never, namespace: (ns) => namespaces.get(ns) as never },
      {
        egressDefault: [
          { namespace: '.', service: '*' },
          { namespace: 'weft-system', service: '*' },
        ],
        onEgressProblem: (p) => problems.push(p),
      },
    );
    const egress = (ns: string, n: string) => (lookup(ns, n) as { egress?: unknown }).egress;
    expect(egress('shop', 'own')).toEqual({ source: 'pod', hosts: ['payments/*', 'shop/checkout'] });
    expect(egress('shop', 'plain')).toEqual({ source: 'namespace', hosts: ['shop/*'] });
    expect(egress('other', 'plain')).toEqual({ source: 'default', hosts: ['other/*', 'weft-system/*'] });
    expect(egress('bad', 'plain')).toEqual({ source: 'namespace' });
    expect(egress('bad', 'plain')).toEqual({ source: 'namespace' });
    expect(problems).toEqual([
      { where: 'namespace', value: 'checkout', reason: expect.stringMatching(/not <namespace>\/<service>/), namespace: 'bad', pod: 'plain' },
    ]);
  });
});
