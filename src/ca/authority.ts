// The certificate authority: a signing certificate + key (a generated root, or a user-supplied
// root or intermediate with its chain) and the trust bundle proxies verify peers against.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { DEFAULT_KEY_ALGORITHM, generateKeyPair, privateKeyPem, signatureSchemeFor, type KeyAlgorithm, type SignatureScheme } from './keys.ts';
import { pemBlocks, splitCertificates } from './pem.ts';
import { identityProblem, spiffeId } from './spiffe.ts';
import { buildCertificate, Eku, KeyUsage, parseCertificate, type CertSpec, type Signer } from './x509.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
export const DEFAULT_SVID_TTL_MS = DAY;
export const DEFAULT_SERVING_TTL_MS = 90 * DAY;
export const DEFAULT_ROOT_TTL_MS = 10 * 365 * DAY;
/** Certificates start a minute in the past so a peer whose clock is slightly behind accepts them. */
export const BACKDATE_MS = MINUTE;

/** What a RootStore keeps: the signing certificate (chain after it, if any) and its key, PEM. */
export interface CaMaterial {
  readonly certPem: string;
  readonly keyPem: string;
  /** Roots proxies trust; defaults to the chain's self-signed root. Holds old + new roots during rotation. */
  readonly trustBundlePem?: string;
}

export interface IssuedCertificate {
  /** The new certificate alone. */
  readonly certPem: string;
  /** PKCS#8 private key; absent when the caller supplied the public key. */
  readonly keyPem?: string;
  /** certPem followed by the intermediates up to (not including) the root: Envoy's certificate_chain. */
  readonly chainPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export type IssueResult = { ok: true; cert: IssuedCertificate } | { ok: false; reason: string };

export interface SvidRequest {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly ttlMs?: number;
  readonly now?: Date;
  /** Certify this key (e.g. from a CSR) instead of generating one. */
  readonly publicKey?: KeyObject;
  readonly keyAlgorithm?: KeyAlgorithm;
}

export interface ServingRequest {
  readonly dnsNames: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly ttlMs?: number;
  readonly now?: Date;
  readonly keyAlgorithm?: KeyAlgorithm;
}

export interface CertificateAuthority {
  readonly trustDomain: string;
  /** The signing certificate. */
  readonly certPem: string;
  /** Intermediates between issued certificates and the root (the signing cert unless it is the root). */
  readonly intermediatesPem: string;
  /** Root certificates proxies trust (SDS validation context, webhook caBundle, bootstrap). */
  readonly trustBundlePem: string;
  readonly notAfter: Date;
  issueSvid(req: SvidRequest): Promise<IssueResult>;
  issueServing(req: ServingRequest): Promise<IssueResult>;
  /** A subordinate CA (for tests and for operators building an intermediate). */
  issueIntermediate(req: { commonName: string; ttlMs?: number; now?: Date; keyAlgorithm?: KeyAlgorithm }): Promise<CaMaterial>;
}

export interface FieldError {
  readonly field: string;
  readonly reason: string;
}
export type LoadResult = { ok: true; ca: CertificateAuthority } | { ok: false; errors: FieldError[] };

/** A new self-signed root: CA=true, keyCertSign+cRLSign, 10 years unless told. */
export async function createRootCa(opts: { keyAlgorithm?: KeyAlgorithm; commonName?: string; ttlMs?: number; now?: Date } = {}): Promise<CaMaterial> {
  const keys = await generateKeyPair(opts.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM);
  const scheme = mustScheme(keys.privateKey);
  const now = opts.now ?? new Date();
  const certPem = buildCertificate(
    {
      subject: { organization: 'weft', commonName: opts.commonName ?? 'weft root CA' },
      publicKey: keys.publicKey,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + (opts.ttlMs ?? DEFAULT_ROOT_TTL_MS)),
      ca: {},
      keyUsage: [KeyUsage.keyCertSign, KeyUsage.cRLSign],
    },
    { selfKey: keys.privateKey, scheme },
  );
  return { certPem, keyPem: privateKeyPem(keys.privateKey) };
}

/** Validates CA material (from a Secret, a file or a user) into a usable authority; every problem is reported. */
export function loadCa(material: CaMaterial, opts: { trustDomain: string; now?: Date }): LoadResult {
  const errors: FieldError[] = [];
  const chain = parseChain(material.certPem, 'certPem', errors);
  const key = parseKey(material.keyPem, errors);
  const scheme = key ? signatureSchemeFor(key) : undefined;
  if (scheme && 'error' in scheme) errors.push({ field: 'keyPem', reason: scheme.error });
  if (identityProblem({ trustDomain: opts.trustDomain, namespace: 'a', serviceAccount: 'a' })) {
    errors.push({ field: 'trustDomain', reason: 'must be lowercase letters, digits, ".", "-" or "_"' });
  }
  const signing = chain[0];
  if (signing) checkSigningCert(signing, key, opts.now ?? new Date(), errors);
  chain.forEach((c, i) => {
    const parent = chain[i + 1];
    if (parent && !issuedBy(c, parent)) errors.push({ field: 'certPem', reason: `certificate ${i + 1} is not signed by certificate ${i + 2} of the chain` });
  });
  const bundle = material.trustBundlePem ? parseChain(material.trustBundlePem, 'trustBundlePem', errors) : chain.filter(isSelfSigned);
  const top = chain[chain.length - 1];
  if (top && bundle.length === 0)
    errors.push({ field: 'trustBundlePem', reason: 'the chain does not end in a self-signed root; supply the root(s) as trustBundlePem' });
  else if (top && !bundle.some((r) => r.fingerprint256 === top.fingerprint256 || issuedBy(top, r))) {
    errors.push({ field: 'trustBundlePem', reason: 'no root in the trust bundle issued the top of the chain' });
  }
  if (errors.length > 0 || !signing || !key || !scheme || 'error' in scheme) return { ok: false, errors };
  return { ok: true, ca: authority(opts.trustDomain, chain, bundle, key, scheme) };
}

function authority(trustDomain: string, chain: X509Certificate[], bundle: X509Certificate[], key: KeyObject, scheme: SignatureScheme): CertificateAuthority {
  const signingCert = chain[0] as X509Certificate;
  const signer: Signer = { cert: parseCertificate(new Uint8Array(signingCert.raw)), key, scheme };
  const intermediatesPem = chain
    .filter((c) => !isSelfSigned(c))
    .map((c) => c.toString())
    .join('');
  const caNotAfter = new Date(signingCert.validTo);

  async function issue(
    spec: Omit<CertSpec, 'publicKey' | 'notBefore' | 'notAfter'>,
    ttlMs: number,
    now: Date,
    publicKey?: KeyObject,
    alg?: KeyAlgorithm,
  ): Promise<IssueResult> {
    if (!(ttlMs > 0)) return { ok: false, reason: 'ttl must be positive' };
    const keys = publicKey ? undefined : await generateKeyPair(alg ?? DEFAULT_KEY_ALGORITHM);
    const notBefore = new Date(now.getTime() - BACKDATE_MS);
    // Never outlive the issuer: a chain is only as valid as its shortest-lived link.
    const notAfter = new Date(Math.min(now.getTime() + ttlMs, caNotAfter.getTime()));
    const certPem = buildCertificate({ ...spec, publicKey: publicKey ?? (keys?.publicKey as KeyObject), notBefore, notAfter }, signer);
    const keyPem = keys ? privateKeyPem(keys.privateKey) : undefined;
    return { ok: true, cert: { certPem, ...(keyPem ? { keyPem } : {}), chainPem: certPem + intermediatesPem, notBefore, notAfter } };
  }

  return {
    trustDomain,
    certPem: signingCert.toString(),
    intermediatesPem,
    trustBundlePem: bundle.map((c) => c.toString()).join(''),
    notAfter: caNotAfter,
    async issueSvid(req) {
      const problem = identityProblem({ trustDomain, namespace: req.namespace, serviceAccount: req.serviceAccount });
      if (problem) return { ok: false, reason: problem };
      return issue(
        {
          subject: {},
          keyUsage: [KeyUsage.digitalSignature, KeyUsage.keyEncipherment],
          extKeyUsage: [Eku.serverAuth, Eku.clientAuth],
          san: { uris: [spiffeId(trustDomain, req.namespace, req.serviceAccount)] },
        },
        req.ttlMs ?? DEFAULT_SVID_TTL_MS,
        req.now ?? new Date(),
        req.publicKey,
        req.keyAlgorithm,
      );
    },
    async issueServing(req) {
      const badDns = req.dnsNames.find((d) => !/^(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/i.test(d) || d.length > 253);
      if (badDns !== undefined) return { ok: false, reason: `"${badDns}" is not a DNS name` };
      const badIp = (req.ipAddresses ?? []).find((ip) => isIP(ip) === 0);
      if (badIp !== undefined) return { ok: false, reason: `"${badIp}" is not an IP address` };
      if (req.dnsNames.length === 0 && !req.ipAddresses?.length)
        return { ok: false, reason: 'a serving certificate needs at least one DNS name or IP address' };
      return issue(
        {
          subject: { organization: 'weft', commonName: req.dnsNames[0] ?? req.ipAddresses?.[0] ?? '' },
          keyUsage: [KeyUsage.digitalSignature, KeyUsage.keyEncipherment],
          extKeyUsage: [Eku.serverAuth],
          san: { dns: req.dnsNames, ips: req.ipAddresses ?? [] },
        },
        req.ttlMs ?? DEFAULT_SERVING_TTL_MS,
        req.now ?? new Date(),
        undefined,
        req.keyAlgorithm,
      );
    },
    async issueIntermediate(req) {
      const keys = await generateKeyPair(req.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM);
      const now = req.now ?? new Date();
      const notAfter = new Date(Math.min(now.getTime() + (req.ttlMs ?? DEFAULT_ROOT_TTL_MS / 2), caNotAfter.getTime()));
      const certPem = buildCertificate(
        {
          subject: { organization: 'weft', commonName: req.commonName },
          publicKey: keys.publicKey,
          notBefore: new Date(now.getTime() - BACKDATE_MS),
          notAfter,
          ca: { pathLen: 0 },
          keyUsage: [KeyUsage.keyCertSign, KeyUsage.cRLSign],
        },
        signer,
      );
      const bundlePem = bundle.map((c) => c.toString()).join('');
      return {
        certPem:
          certPem +
          intermediatesPem +
          chain
            .filter(isSelfSigned)
            .map((c) => c.toString())
            .join(''),
        keyPem: privateKeyPem(keys.privateKey),
        trustBundlePem: bundlePem,
      };
    },
  };
}

function parseChain(pem: string, field: string, errors: FieldError[]): X509Certificate[] {
  const certs: X509Certificate[] = [];
  const blocks = splitCertificates(pem);
  if (blocks.length === 0) errors.push({ field, reason: 'no PEM CERTIFICATE block found' });
  blocks.forEach((b, i) => {
    try {
      certs.push(new X509Certificate(b));
    } catch {
      errors.push({ field, reason: `certificate ${i + 1} is not valid DER X.509` });
    }
  });
  return certs;
}

function parseKey(pem: string, errors: FieldError[]): KeyObject | undefined {
  const blocks = pemBlocks(pem).filter((b) => b.label.endsWith('PRIVATE KEY'));
  if (blocks.length !== 1) {
    errors.push({ field: 'keyPem', reason: `expected exactly one PEM private key block, found ${blocks.length}` });
    return undefined;
  }
  try {
    return createPrivateKey(pem);
  } catch {
    errors.push({ field: 'keyPem', reason: 'the private key could not be parsed (encrypted keys are not supported)' });
    return undefined;
  }
}

function checkSigningCert(cert: X509Certificate, key: KeyObject | undefined, now: Date, errors: FieldError[]): void {
  if (!cert.ca) errors.push({ field: 'certPem', reason: 'the first certificate is not a CA (basicConstraints CA=false)' });
  if (!hasKeyCertSign(cert)) errors.push({ field: 'certPem', reason: 'the first certificate lacks keyUsage keyCertSign' });
  if (new Date(cert.validTo) <= now) errors.push({ field: 'certPem', reason: `the signing certificate expired at ${new Date(cert.validTo).toISOString()}` });
  if (key && !cert.checkPrivateKey(key)) errors.push({ field: 'keyPem', reason: 'the private key does not match the first certificate' });
}

function hasKeyCertSign(cert: X509Certificate): boolean {
  const parsed = parseCertificate(new Uint8Array(cert.raw));
  const ku = parsed.extensions?.find((e) => e.extnID === '2.5.29.15');
  if (!ku) return true; // RFC 5280 §4.2.1.3: absent keyUsage places no restriction.
  const bits = new Uint8Array(ku.extnValue.valueBlock.valueHexView);
  // The extension value is a DER BIT STRING: tag, length, unused-bits octet, then the bits.
  const first = bits[3] ?? 0;
  return (first & (0x80 >> KeyUsage.keyCertSign)) !== 0;
}

function isSelfSigned(c: X509Certificate): boolean {
  return issuedBy(c, c);
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}

function mustScheme(key: KeyObject): SignatureScheme {
  const s = signatureSchemeFor(key);
  if ('error' in s) throw new Error(s.error); // only reachable for keys we generated ourselves
  return s;
}
