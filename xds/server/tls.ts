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
import { renewAt } from '../../src/ca/renewal.ts';
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
  readonly now?: () => Date;
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
  close(): void;
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
  readonly status: ServingCertStatus;
  readonly renewAt: Date;
}

const DAY = 24 * 60 * 60_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Issues the first serving certificate and returns rotating server credentials; rejects if the CA cannot issue. */
export async function createXdsTls(opts: XdsTlsOptions): Promise<XdsTls> {
  const log = (opts.log ?? rootLog).child({ component: 'xds-tls' });
  const now = opts.now ?? (() => new Date());
  const rand = opts.rand ?? Math.random;
  const dnsNames = opts.dnsNames ?? [...xdsServiceDnsNames('weft-system'), 'localhost'];
  const ipAddresses = opts.ipAddresses ?? ['127.0.0.1', '::1'];
  const ttlMs = opts.ttlMs ?? 7 * DAY;

  const issue = async (): Promise<Serving> => {
    const at = now();
    const r = await opts.ca.issueServing({ dnsNames, ipAddresses, ttlMs, now: at });
    if (!r.ok) throw new Error(`xDS serving certificate: ${r.reason}`);
    if (r.cert.keyPem === undefined) throw new Error('xDS serving certificate: no key');
    // From issuance, not the backdated notBefore (see xds/secrets/workload-secrets.ts).
    const renew = renewAt({ notBefore: at, notAfter: r.cert.notAfter }, at, rand);
    const status = { serial: new X509Certificate(r.cert.certPem).serialNumber, notAfter: r.cert.notAfter.toISOString(), renewAt: renew.toISOString() };
    return { certificate: Buffer.from(r.cert.chainPem), privateKey: Buffer.from(r.cert.keyPem), status, renewAt: renew };
  };

  let serving = await issue();
  const provider = new MemoryCertificateProvider(Buffer.from(opts.ca.trustBundlePem), serving.certificate, serving.privateKey);
  // grpc-js's parameter names are swapped relative to its constructor; one provider serving
  // both roles makes the order irrelevant. Client certificates: requested, not required.
  const credentials = experimental.createCertificateProviderServerCredentials(provider, provider, false);
  log.info({ dnsNames, ipAddresses, ...serving.status }, 'xDS serving certificate issued');

  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let failures = 0;
  const schedule = (delayMs: number): void => {
    clearTimeout(timer);
    if (closed) return;
    timer = setTimeout(() => void renew(), Math.min(Math.max(0, delayMs), MAX_TIMER_MS)).unref();
  };
  const install = (next: Serving): void => {
    serving = next;
    provider.setIdentity(next.certificate, next.privateKey);
    log.info(next.status, 'xDS serving certificate rotated');
  };
  const renew = async (): Promise<void> => {
    if (closed) return;
    const left = serving.renewAt.getTime() - now().getTime();
    if (left > 1_000) return schedule(left); // a long wait re-armed past setTimeout's ceiling
    try {
      install(await issue());
      failures = 0;
      schedule(serving.renewAt.getTime() - now().getTime());
    } catch (err) {
      failures++;
      const retryIn = Math.min(1_000 * 2 ** failures, 60_000);
      log.error({ err, retryIn, notAfter: serving.status.notAfter }, 'xDS serving certificate renewal failed; the current one keeps serving');
      schedule(retryIn);
    }
  };
  schedule(serving.renewAt.getTime() - now().getTime());

  return {
    credentials,
    current: () => serving.status,
    async rotate() {
      install(await issue());
      schedule(serving.renewAt.getTime() - now().getTime());
    },
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
