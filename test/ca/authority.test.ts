// X.509-SVIDs and serving certificates from a generated root, checked with node:crypto's
// OpenSSL-backed X509Certificate (the same library Envoy's peers effectively agree with).
import { X509Certificate } from 'node:crypto';
import * as pkijs from 'pkijs';
import { describe, expect, it } from 'vitest';
import { BACKDATE_MS, createRootCa, loadCa, type CertificateAuthority } from '../../src/ca/authority.ts';
import type { KeyAlgorithm } from '../../src/ca/keys.ts';

async function newCa(alg: KeyAlgorithm): Promise<CertificateAuthority> {
  const r = loadCa(await createRootCa({ keyAlgorithm: alg }), { trustDomain: 'cluster.local' });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.ca;
}

/** The keyUsage BIT STRING's first octet, decoded by pkijs (an independent parser). */
function keyUsageByte(pem: string): number {
  const c = pkijs.Certificate.fromBER(new X509Certificate(pem).raw);
  const ku = c.extensions?.find((e) => e.extnID === '2.5.29.15');
  return new Uint8Array(ku?.extnValue.valueBlock.valueHexView ?? [])[3] ?? 0;
}

describe.each(['ecdsa-p256', 'rsa-2048'] as const)('CA with %s', (alg) => {
  it('creates a long-lived self-signed root with CA=true and keyCertSign', async () => {
    const ca = await newCa(alg);
    const root = new X509Certificate(ca.trustBundlePem);
    expect(root.ca).toBe(true);
    expect(root.checkIssued(root)).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(root.publicKey.asymmetricKeyType).toBe(alg === 'rsa-2048' ? 'rsa' : 'ec');
    expect(keyUsageByte(ca.certPem) & 0x04).toBe(0x04); // keyCertSign = bit 5
    expect(new Date(root.validTo).getTime() - Date.now()).toBeGreaterThan(5 * 365 * 86_400_000);
  });

  it('issues an X.509-SVID: one URI SAN, CA=false, both EKUs, 24 h, backdated a minute', async () => {
    const ca = await newCa(alg);
    const now = new Date();
    const r = await ca.issueSvid({ namespace: 'shop', serviceAccount: 'checkout', now });
    if (!r.ok) throw new Error(r.reason);
    const leaf = new X509Certificate(r.cert.certPem);
    const root = new X509Certificate(ca.trustBundlePem);
    expect(leaf.subjectAltName).toBe('URI:spiffe://cluster.local/ns/shop/sa/checkout');
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(root)).toBe(true);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(keyUsageByte(r.cert.certPem)).toBe(0xa0); // digitalSignature + keyEncipherment only
    // X509Certificate reports whole seconds; allow that rounding.
    expect(Math.abs(new Date(leaf.validFrom).getTime() - (now.getTime() - BACKDATE_MS))).toBeLessThan(1000);
    expect(Math.abs(new Date(leaf.validTo).getTime() - (now.getTime() + 86_400_000))).toBeLessThan(1000);
    expect(r.cert.chainPem).toBe(r.cert.certPem); // signed by the root: no intermediates to send
    expect(leaf.checkPrivateKey((await import('node:crypto')).createPrivateKey(r.cert.keyPem ?? ''))).toBe(true);
  });

  it('issues serving certificates with DNS and IP SANs', async () => {
    const ca = await newCa(alg);
    const r = await ca.issueServing({ dnsNames: ['weft.weft-system.svc', 'localhost'], ipAddresses: ['127.0.0.1', '::1'] });
    if (!r.ok) throw new Error(r.reason);
    const cert = new X509Certificate(r.cert.certPem);
    expect(cert.subjectAltName).toBe('DNS:weft.weft-system.svc, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(cert.checkHost('weft.weft-system.svc')).toBe('weft.weft-system.svc');
    expect(cert.checkIP('::1')).toBe('::1');
    expect(cert.verify(new X509Certificate(ca.trustBundlePem).publicKey)).toBe(true);
  });
});

describe('issuing refuses bad input as data', () => {
  it('rejects identities Kubernetes could not have produced', async () => {
    const ca = await newCa('ecdsa-p256');
    expect(await ca.issueSvid({ namespace: 'Shop', serviceAccount: 'web' })).toMatchObject({ ok: false, reason: expect.stringContaining('namespace') });
    expect(await ca.issueSvid({ namespace: 'shop', serviceAccount: 'a/b' })).toMatchObject({ ok: false, reason: expect.stringContaining('service account') });
    expect(await ca.issueSvid({ namespace: 'shop', serviceAccount: 'web', ttlMs: 0 })).toMatchObject({ ok: false });
  });

  it('rejects bad serving names', async () => {
    const ca = await newCa('ecdsa-p256');
    expect(await ca.issueServing({ dnsNames: ['bad name'] })).toMatchObject({ ok: false });
    expect(await ca.issueServing({ dnsNames: [], ipAddresses: ['300.1.1.1'] })).toMatchObject({ ok: false });
    expect(await ca.issueServing({ dnsNames: [] })).toMatchObject({ ok: false });
  });

  it('never issues past the CA certificate expiry', async () => {
    const r = loadCa(await createRootCa({ ttlMs: 3_600_000 }), { trustDomain: 'cluster.local' });
    if (!r.ok) throw new Error('load');
    const s = await r.ca.issueSvid({ namespace: 'a', serviceAccount: 'b' });
    if (!s.ok) throw new Error(s.reason);
    expect(s.cert.notAfter.getTime()).toBe(r.ca.notAfter.getTime());
  });

  it('certifies a caller-supplied public key without returning a private key', async () => {
    const ca = await newCa('ecdsa-p256');
    const { generateKeyPair } = await import('../../src/ca/keys.ts');
    const kp = await generateKeyPair('ecdsa-p256');
    const r = await ca.issueSvid({ namespace: 'a', serviceAccount: 'b', publicKey: kp.publicKey });
    if (!r.ok) throw new Error(r.reason);
    expect(r.cert.keyPem).toBeUndefined();
    expect(new X509Certificate(r.cert.certPem).checkPrivateKey(kp.privateKey)).toBe(true);
  });
});
