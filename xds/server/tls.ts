// TLS for the xDS server: a serving certificate from the mesh CA, renewed at about half its
// life without restarting the server. grpc-js rotates through its certificate-provider
// credentials (experimental.createCertificateProviderServerCredentials): every provider
// update calls `setSecureContext` on the listening http2 server, so new handshakes get the
// new certificate while established connections keep theirs. (createSsl's options are fixed
// for the server's lifetime.)
//
// Client certificates are requested but optional (requestCert, rejectUnauthorized false):
// sidecars authenticate with a token on the call, proxies outside Kubernetes with a
// certificate. A presented certificate counts only when it chains to the trust bundle —
// grpc-js's getAuthContext() exposes the peer certificate of authorized sockets only — so an
// unverified one confers nothing and the call is judged by its other credentials.
import { experimental, type ServerCredentials } from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import type { CertificateAuthority } from '../../src/ca/authority.ts';
import { Rotation } from '../../src/base/rotation.ts';
import { systemClock, type Clock } from '../../src/base/clock.ts';
import { log as rootLog, type Logger } from '../../src/base/log.ts';
import { CLUSTER_DOMAIN } from '../resources/names.ts';

type CertificateProvider = experimental.CertificateProvider;
type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/** The xDS Service's DNS names in `namespace`: `weft.<ns>.svc` and its cluster-domain FQDN. */
export function xdsServiceDnsNames(namespace: string, service = 'weft'): string[] {
  return [`${service}.${namespace}.svc`, `${service}.${namespace}.svc.${CLUSTER_DOMAIN}`];
}

export interface XdsTlsOptions {
  readonly ca: CertificateAuthority;
  /** DNS SANs (default: the weft Service in weft-system, plus localhost). */
  readonly dnsNames?: readonly string[];
  /** IP SANs (default 127.0.0.1 and ::1). */
  readonly ipAddresses?: readonly string[];
  /** Serving certificate lifetime (default 7 days); renewed at about half of it. */
  readonly ttlMs?: number;
  readonly clock?: Clock;
  readonly rand?: () => number;
  readonly log?: Logger;
}

export interface ServingCertStatus {
  readonly serial: string;
  readonly notAfter: string;
  readonly renewAt: string;
}

export interface XdsTls {
  /** Pass to startXdsServer; the same object keeps serving the renewed certificate. */
  readonly credentials: ServerCredentials;
  current(): ServingCertStatus;
  /** Issues and installs a new serving certificate now (renewal does this on its own). */
  rotate(): Promise<void>;
  /**
   * Root rotation: trust `ca`'s bundle for client certificates from the next handshake on and,
   * when its signing certificate differs, install a serving certificate it signed. Idempotent.
   */
  setCa(ca: CertificateAuthority): Promise<void>;
  close(): void;
}

/** The serving certificate, its key and the trust bundle (PEM), as an xDS worker thread receives them. */
export interface TlsMaterial {
  readonly ca: Buffer;
  readonly certificate: Buffer;
  readonly privateKey: Buffer;
}

/** An in-memory provider of both the identity (serving cert) and the CA (trust bundle). */
class MemoryCertificateProvider implements CertificateProvider {
  readonly #ca = new Set<CaListener>();
  readonly #identity = new Set<IdentityListener>();
  #caUpdate: experimental.CaCertificateUpdate;
  #identityUpdate: experimental.IdentityCertificateUpdate;

  constructor(ca: Buffer, certificate: Buffer, privateKey: Buffer) {
    this.#caUpdate = { caCertificate: ca };
    this.#identityUpdate = { certificate, privateKey };
  }

  get material(): TlsMaterial {
    return { ca: this.#caUpdate.caCertificate, certificate: this.#identityUpdate.certificate, privateKey: this.#identityUpdate.privateKey };
  }

  setCa(ca: Buffer): void {
    this.#caUpdate = { caCertificate: ca };
    for (const l of this.#ca) l(this.#caUpdate);
  }

  setIdentity(certificate: Buffer, privateKey: Buffer): void {
    this.#identityUpdate = { certificate, privateKey };
    for (const l of this.#identity) l(this.#identityUpdate);
  }

  // grpc-js registers its provider listeners before its own watcher: deliver on the next
  // tick, as its FileWatcherCertificateProvider does, or the first update is lost.
  addCaCertificateListener(listener: CaListener): void {
    this.#ca.add(listener);
    process.nextTick(() => this.#ca.has(listener) && listener(this.#caUpdate));
  }
  removeCaCertificateListener(listener: CaListener): void {
    this.#ca.delete(listener);
  }
  addIdentityCertificateListener(listener: IdentityListener): void {
    this.#identity.add(listener);
    process.nextTick(() => this.#identity.has(listener) && listener(this.#identityUpdate));
  }
  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.#identity.delete(listener);
  }
}

interface Serving {
  readonly certificate: Buffer;
  readonly privateKey: Buffer;
  readonly serial: string;
  readonly notAfter: Date;
  /** Fingerprint of the CA certificate that signed it. */
  readonly signer: string;
}

const DAY = 24 * 60 * 60_000;

/** Issues the first serving certificate and returns rotating server credentials; rejects if the CA cannot issue. */
export async function createXdsTls(opts: XdsTlsOptions): Promise<XdsTls> {
  const log = (opts.log ?? rootLog).child({ component: 'xds-tls' });
  const clock = opts.clock ?? systemClock;
  const dnsNames = opts.dnsNames ?? [...xdsServiceDnsNames('weft-system'), 'localhost'];
  const ipAddresses = opts.ipAddresses ?? ['127.0.0.1', '::1'];
  const ttlMs = opts.ttlMs ?? 7 * DAY;

  // Created with the first certificate; renewals update it.
  const serving: { provider?: MemoryCertificateProvider; ca: CertificateAuthority } = { ca: opts.ca };
  const rotation = new Rotation<Serving>({
    issue: async () => {
      const ca = serving.ca;
      const r = await ca.issueServing({ dnsNames, ipAddresses, ttlMs, now: new Date(clock.now()) });
      if (!r.ok) throw new Error(`xDS serving certificate: ${r.reason}`);
      if (r.cert.keyPem === undefined) throw new Error('xDS serving certificate: no key');
      const serial = new X509Certificate(r.cert.certPem).serialNumber;
      const signer = new X509Certificate(ca.certPem).fingerprint256;
      return { certificate: Buffer.from(r.cert.chainPem), privateKey: Buffer.from(r.cert.keyPem), serial, notAfter: r.cert.notAfter, signer };
    },
    notAfter: (s) => s.notAfter,
    install: (next, previous) => {
      serving.provider?.setIdentity(next.certificate, next.privateKey);
      log.info(
        { ...(previous ? {} : { dnsNames, ipAddresses }), ...status() },
        previous ? 'xDS serving certificate rotated' : 'xDS serving certificate issued',
      );
    },
    onError: (err, retryIn) =>
      log.error({ err, retryIn, notAfter: rotation.current?.notAfter.toISOString() }, 'xDS serving certificate renewal failed; the current one keeps serving'),
    clock,
    metricName: 'xds-serving',
    ...(opts.rand ? { rand: opts.rand } : {}),
  });
  const status = (): ServingCertStatus => ({
    serial: rotation.current?.serial ?? '',
    notAfter: rotation.current?.notAfter.toISOString() ?? '',
    renewAt: rotation.renewAt?.toISOString() ?? '',
  });

  let first: Serving;
  try {
    first = await rotation.rotate();
  } catch (err) {
    rotation.stop();
    throw err;
  }
  const provider = new MemoryCertificateProvider(Buffer.from(opts.ca.trustBundlePem), first.certificate, first.privateKey);
  serving.provider = provider;
  // grpc-js's parameter names are swapped relative to its constructor; one provider serving
  // both roles makes the order irrelevant. Client certificates: requested, not required.
  const credentials = experimental.createCertificateProviderServerCredentials(provider, provider, false);
  providers.set(credentials, provider);

  return {
    credentials,
    current: status,
    async rotate() {
      await rotation.rotate();
    },
    async setCa(ca) {
      const bundleChanged = ca.trustBundlePem !== serving.ca.trustBundlePem;
      serving.ca = ca;
      if (bundleChanged) {
        provider.setCa(Buffer.from(ca.trustBundlePem));
        log.info({ roots: ca.trustBundlePem.split('BEGIN CERTIFICATE').length - 1 }, 'xDS client-certificate trust bundle replaced');
      }
      const signer = new X509Certificate(ca.certPem).fingerprint256;
      if (rotation.current?.signer !== signer) await rotation.rotate();
      if (rotation.current?.signer !== signer) await rotation.rotate(); // an issuance that raced the switch
    },
    close() {
      rotation.stop();
    },
  };
}

const providers = new WeakMap<ServerCredentials, MemoryCertificateProvider>();

/**
 * For xDS worker threads (workers.ts): the current material of credentials made here, and each
 * renewed identity or rotated trust bundle (call the returned function to stop); undefined
 * for other credentials.
 */
export function rotatingMaterial(
  credentials: ServerCredentials,
): { readonly current: TlsMaterial; follow(onChange: (m: TlsMaterial) => void): () => void } | undefined {
  const provider = providers.get(credentials);
  if (provider === undefined) return undefined;
  return {
    current: provider.material,
    follow(onChange) {
      // Renewed serving certificates and a rotated trust bundle (CA rotation) alike.
      const identity: IdentityListener = () => onChange(provider.material);
      const ca: CaListener = () => onChange(provider.material);
      provider.addIdentityCertificateListener(identity);
      provider.addCaCertificateListener(ca);
      return () => {
        provider.removeIdentityCertificateListener(identity);
        provider.removeCaCertificateListener(ca);
      };
    },
  };
}

/** A worker thread's credentials from the primary's material; `update` installs a renewed identity. */
export function credentialsFrom(m: TlsMaterial): { readonly credentials: ServerCredentials; update(next: TlsMaterial): void } {
  const provider = new MemoryCertificateProvider(Buffer.from(m.ca), Buffer.from(m.certificate), Buffer.from(m.privateKey));
  return {
    credentials: experimental.createCertificateProviderServerCredentials(provider, provider, false),
    update: (next) => {
      if (!Buffer.from(next.ca).equals(provider.material.ca)) provider.setCa(Buffer.from(next.ca));
      provider.setIdentity(Buffer.from(next.certificate), Buffer.from(next.privateKey));
    },
  };
}
