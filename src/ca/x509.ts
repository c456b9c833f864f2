// Builds and signs X.509 v3 certificates. pkijs encodes the ASN.1 (chosen by measurement:
// bench/ca.ts); node:crypto signs the TBS bytes natively, so keys stay KeyObjects throughout.
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { SignatureScheme } from './keys.ts';
import { toPem } from './pem.ts';

export const KeyUsage = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
} as const;
export type KeyUsageBit = (typeof KeyUsage)[keyof typeof KeyUsage];

export const Eku = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' } as const;

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
} as const;

/** The issuer side of a signature: its parsed certificate (for the name and key id) and its key. */
export interface Signer {
  readonly cert: pkijs.Certificate;
  readonly key: KeyObject;
  readonly scheme: SignatureScheme;
}

export interface CertSpec {
  /** Subject attributes; empty means an empty subject (then the SAN extension is critical, RFC 5280 §4.2.1.6). */
  readonly subject: { readonly commonName?: string; readonly organization?: string };
  readonly publicKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** CA certificates: basicConstraints CA=true with this pathLen (undefined = unlimited). */
  readonly ca?: { readonly pathLen?: number };
  readonly keyUsage: readonly KeyUsageBit[];
  readonly extKeyUsage?: readonly string[];
  readonly san?: { readonly uris?: readonly string[]; readonly dns?: readonly string[]; readonly ips?: readonly string[] };
}

/** Signs `spec` with `signer`, or self-signs with `selfKey` when signer is undefined (roots). */
export function buildCertificate(spec: CertSpec, signer: Signer | { selfKey: KeyObject; scheme: SignatureScheme }): string {
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: serialBytes() });
  cert.subject = distinguishedName(spec.subject);
  cert.notBefore = new pkijs.Time({ type: timeType(spec.notBefore), value: spec.notBefore });
  cert.notAfter = new pkijs.Time({ type: timeType(spec.notAfter), value: spec.notAfter });
  const spki = new Uint8Array(spec.publicKey.export({ type: 'spki', format: 'der' }));
  cert.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(spki);
  const ski = keyIdentifier(cert.subjectPublicKeyInfo);

  const isSelf = 'selfKey' in signer;
  cert.issuer = isSelf ? cert.subject : signer.cert.subject;
  const aki = isSelf ? ski : (existingSki(signer.cert) ?? keyIdentifier(signer.cert.subjectPublicKeyInfo));

  const exts: pkijs.Extension[] = [
    ext(
      OID.basicConstraints,
      true,
      new pkijs.BasicConstraints({ cA: spec.ca !== undefined, ...(spec.ca?.pathLen !== undefined ? { pathLenConstraint: spec.ca.pathLen } : {}) }).toSchema(),
    ),
    ext(OID.keyUsage, true, keyUsageBits(spec.keyUsage)),
    ext(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: ski })),
    ext(OID.authorityKeyIdentifier, false, new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: aki }) }).toSchema()),
  ];
  if (spec.extKeyUsage?.length) exts.push(ext(OID.extKeyUsage, false, new pkijs.ExtKeyUsage({ keyPurposes: [...spec.extKeyUsage] }).toSchema()));
  const names = generalNames(spec.san);
  if (names.length > 0) {
    const emptySubject = spec.subject.commonName === undefined && spec.subject.organization === undefined;
    exts.push(ext(OID.subjectAltName, emptySubject, new pkijs.GeneralNames({ names }).toSchema()));
  }
  cert.extensions = exts;

  const scheme = signer.scheme;
  const algId = new pkijs.AlgorithmIdentifier({ algorithmId: scheme.oid, ...(scheme.nullParams ? { algorithmParams: new asn1js.Null() } : {}) });
  cert.signature = algId;
  cert.signatureAlgorithm = algId;
  const tbs = new Uint8Array(cert.encodeTBS().toBER(false));
  cert.tbsView = tbs;
  const signature = sign(scheme.hash, tbs, { key: isSelf ? signer.selfKey : signer.key, dsaEncoding: 'der' });
  cert.signatureValue = new asn1js.BitString({ valueHex: new Uint8Array(signature) });
  return toPem('CERTIFICATE', new Uint8Array(cert.toSchema(false).toBER(false)));
}

/** Parses DER for use as a Signer's certificate. */
export function parseCertificate(der: Uint8Array): pkijs.Certificate {
  return pkijs.Certificate.fromBER(der);
}

// 16 random bytes with the top bit cleared: a positive INTEGER of fixed size, unique enough
// that two replicas issuing at once never collide (RFC 5280 allows up to 20 octets).
function serialBytes(): Uint8Array {
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f || 0x01;
  return new Uint8Array(b);
}

// RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
function timeType(d: Date): 0 | 1 {
  return d.getUTCFullYear() < 2050 ? 0 : 1;
}

// One attribute per RDN SET, and an empty SEQUENCE for an empty subject: pkijs would put all
// attributes in a single multi-valued SET (and emit an empty SET, which X.501 forbids), so the
// Name is encoded here and handed over as pre-encoded bytes.
function distinguishedName(s: CertSpec['subject']): pkijs.RelativeDistinguishedNames {
  const attrs: [string, string][] = [];
  if (s.organization !== undefined) attrs.push([OID.organization, s.organization]);
  if (s.commonName !== undefined) attrs.push([OID.commonName, s.commonName]);
  const name = new asn1js.Sequence({
    value: attrs.map(
      ([type, value]) =>
        new asn1js.Set({ value: [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: type }), new asn1js.Utf8String({ value })] })] }),
    ),
  });
  const typesAndValues = attrs.map(([type, value]) => new pkijs.AttributeTypeAndValue({ type, value: new asn1js.Utf8String({ value }) }));
  return new pkijs.RelativeDistinguishedNames({ typesAndValues, valueBeforeDecode: name.toBER(false) });
}

function ext(extnID: string, critical: boolean, value: asn1js.BaseBlock): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}

// RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's value.
function keyIdentifier(spki: pkijs.PublicKeyInfo): Uint8Array {
  return new Uint8Array(createHash('sha1').update(spki.subjectPublicKey.valueBlock.valueHexView).digest());
}

function existingSki(cert: pkijs.Certificate): Uint8Array | undefined {
  const e = cert.extensions?.find((x) => x.extnID === OID.subjectKeyIdentifier);
  if (!e) return undefined;
  const parsed = asn1js.fromBER(e.extnValue.valueBlock.valueHexView);
  return parsed.result instanceof asn1js.OctetString ? parsed.result.valueBlock.valueHexView : undefined;
}

// DER named BIT STRING: bit n is (0x80 >> n%8) of byte n/8, trailing zero bits dropped.
function keyUsageBits(bits: readonly KeyUsageBit[]): asn1js.BitString {
  const bytes = new Uint8Array(2);
  for (const b of bits) bytes[b >> 3] = (bytes[b >> 3] ?? 0) | (0x80 >> (b & 7));
  const len = bytes[1] ? 2 : 1;
  const last = bytes[len - 1] ?? 0;
  let unused = 0;
  while (unused < 7 && (last & (1 << unused)) === 0) unused++;
  return new asn1js.BitString({ valueHex: bytes.slice(0, len), unusedBits: unused });
}

function generalNames(san: CertSpec['san']): pkijs.GeneralName[] {
  const out: pkijs.GeneralName[] = [];
  for (const d of san?.dns ?? []) out.push(new pkijs.GeneralName({ type: 2, value: d }));
  for (const u of san?.uris ?? []) out.push(new pkijs.GeneralName({ type: 6, value: u }));
  for (const ip of san?.ips ?? []) out.push(new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipBytes(ip) }) }));
  return out;
}

/** 4 or 16 network-order bytes; throws RangeError on a non-IP (callers validate first). */
export function ipBytes(ip: string): Uint8Array {
  if (isIPv4(ip)) return new Uint8Array(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new RangeError(`not an IP address: ${ip}`);
  let text = ip;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    tail.push(...v4[1].split('.').map(Number));
    text = text.slice(0, -v4[1].length) + '0:0';
  }
  const [head = '', rest] = text.split('::');
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array<string>(8 - h.length - r.length).fill('0'), ...r];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  if (tail.length) out.set(tail, 12);
  return out;
}
