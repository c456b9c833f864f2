// User-supplied roots and intermediates: the chain is kept, sent after each leaf, and verifies
// up to the trust bundle. Broken material is reported field by field, never thrown.
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRootCa, loadCa } from '../../src/ca/authority.ts';
import { splitCertificates } from '../../src/ca/pem.ts';

const td = { trustDomain: 'example.org' };

async function rootCa() {
  const material = await createRootCa();
  const r = loadCa(material, td);
  if (!r.ok) throw new Error('load');
  return { material, ca: r.ca };
}

describe('intermediate CA', () => {
  it('issues SVIDs whose chain verifies leaf → intermediate → root', async () => {
    const { ca: root } = await rootCa();
    const inter = await root.issueIntermediate({ commonName: 'weft intermediate' });
    const r = loadCa(inter, td);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const s = await r.ca.issueSvid({ namespace: 'ns1', serviceAccount: 'sa1' });
    if (!s.ok) throw new Error(s.reason);
    const [leafPem, interPem, ...rest] = splitCertificates(s.cert.chainPem);
    expect(rest).toEqual([]); // the root is never sent in the chain
    const leaf = new X509Certificate(leafPem ?? '');
    const mid = new X509Certificate(interPem ?? '');
    const rootCert = new X509Certificate(r.ca.trustBundlePem);
    expect(leaf.subjectAltName).toBe('URI:spiffe://example.org/ns/ns1/sa/sa1');
    expect(leaf.checkIssued(mid) && leaf.verify(mid.publicKey)).toBe(true);
    expect(mid.ca).toBe(true);
    expect(mid.checkIssued(rootCert) && mid.verify(rootCert.publicKey)).toBe(true);
    expect(leaf.verify(rootCert.publicKey)).toBe(false);
    expect(r.ca.trustBundlePem).toBe(root.trustBundlePem);
  });

  it('accepts an intermediate without its root when the bundle is given separately', async () => {
    const { ca: root } = await rootCa();
    const inter = await root.issueIntermediate({ commonName: 'i' });
    const onlyInter = splitCertificates(inter.certPem)[0] ?? '';
    expect(loadCa({ certPem: onlyInter, keyPem: inter.keyPem, trustBundlePem: root.trustBundlePem }, td).ok).toBe(true);
    const r = loadCa({ certPem: onlyInter, keyPem: inter.keyPem }, td);
    expect(r).toMatchObject({ ok: false, errors: [{ field: 'trustBundlePem' }] });
  });

  it('a bundle with old and new roots keeps both trusted during rotation', async () => {
    const oldRoot = await rootCa();
    const newRoot = await rootCa();
    const r = loadCa({ ...newRoot.material, trustBundlePem: newRoot.material.certPem + oldRoot.material.certPem }, td);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(splitCertificates(r.ca.trustBundlePem)).toHaveLength(2);
  });
});

describe('invalid CA material is data', () => {
  it('reports a key that does not match the certificate', async () => {
    const a = await createRootCa();
    const b = await createRootCa();
    expect(loadCa({ certPem: a.certPem, keyPem: b.keyPem }, td)).toMatchObject({
      ok: false,
      errors: [{ field: 'keyPem', reason: expect.stringContaining('does not match') }],
    });
  });

  it('reports a leaf certificate offered as a CA', async () => {
    const { ca } = await rootCa();
    const s = await ca.issueServing({ dnsNames: ['x'] });
    if (!s.ok) throw new Error(s.reason);
    const r = loadCa({ certPem: s.cert.certPem, keyPem: s.cert.keyPem ?? '', trustBundlePem: ca.trustBundlePem }, td);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.reason).join(';')).toContain('not a CA');
  });

  it('reports garbage PEM, a missing key and a bad trust domain together', () => {
    const r = loadCa({ certPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', keyPem: '' }, { trustDomain: 'Bad Domain' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.field).sort()).toEqual(['certPem', 'keyPem', 'trustDomain']);
  });

  it('reports a chain whose certificates are out of order', async () => {
    const { ca: root } = await rootCa();
    const inter = await root.issueIntermediate({ commonName: 'i' });
    const [i, rt] = splitCertificates(inter.certPem);
    const r = loadCa({ certPem: (rt ?? '') + (i ?? ''), keyPem: inter.keyPem }, td);
    expect(r.ok).toBe(false);
  });
});
