// Per-identity SDS material: an X.509-SVID for every authenticated identity, issued lazily
// on its first connect (key generation runs on libuv's thread pool, see src/ca/keys.ts),
// cached, and renewed at about half its life with jitter (renewAt). A renewal notifies
// `onRotate` listeners so the snapshot cache regenerates that identity's groups and the new
// secret reaches connected proxies without a model change. An identity that no proxy used
// for a whole renewal period is dropped instead of renewed; its next connect issues afresh.
import { X509Certificate } from 'node:crypto';
import type { CertificateAuthority } from '../../src/ca/authority.ts';
import { DEFAULT_SVID_TTL_MS } from '../../src/ca/authority.ts';
import type { KeyAlgorithm } from '../../src/ca/keys.ts';
import { Rotation } from '../../src/base/rotation.ts';
import { systemClock, type Clock } from '../../src/base/clock.ts';
import { parseSpiffeId } from '../../src/ca/spiffe.ts';
import { log as rootLog, type Logger } from '../../src/base/log.ts';
import { SecretSchema, type Secret } from '../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { encodeResource } from '../snapshot/encode.ts';
import { TypeUrl } from '../resources/type-urls.ts';
import { TRUST_BUNDLE_SECRET, WORKLOAD_CERT_SECRET } from '../resources/names.ts';
import { sdsMetrics } from './metrics.ts';
import { trustBundleSecret, workloadCertSecret } from './resources.ts';
import { errorMessage } from '../../src/base/errors.ts';
import { compareStrings } from '../../src/base/order.ts';

export interface WorkloadSecretsOptions {
  readonly ca: CertificateAuthority;
  /** Workload certificate lifetime (default 24 h). */
  readonly ttlMs?: number;
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Time for issuance, renewal and eviction (default: the system clock). */
  readonly clock?: Clock;
  /** Jitter source for renewAt, [0, 1). */
  readonly rand?: () => number;
  /** First retry delay after a failed issuance; doubles up to 1 min (default 2 s). */
  readonly retryMs?: number;
  readonly log?: Logger;
}

/** What the debug view may show about an identity's certificate: never the key. */
export interface IdentityCertStatus {
  readonly identity: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly renewAt: string;
}

interface Issued {
  /** The workload certificate secret (`default`); the trust bundle is shared, see #bundle. */
  readonly cert: Secret;
  /** SHA-256 fingerprint of the CA certificate that signed it (root rotation: old or new key). */
  readonly signer: string;
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly issuedAt: number;
}

interface Entry {
  readonly identity: string;
  readonly rotation: Rotation<Issued>;
  lastUsed: number;
}

export class WorkloadSecrets {
  #ca: CertificateAuthority;
  #signer: string;
  readonly #ttlMs: number;
  readonly #keyAlgorithm: KeyAlgorithm | undefined;
  readonly #clock: Clock;
  readonly #rand: (() => number) | undefined;
  readonly #retryMs: number;
  readonly #log: Logger;
  #bundle: Secret;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<(identity: string) => void>();
  #closed = false;

  constructor(opts: WorkloadSecretsOptions) {
    this.#ca = opts.ca;
    this.#signer = fingerprintOf(opts.ca.certPem);
    this.#ttlMs = opts.ttlMs ?? DEFAULT_SVID_TTL_MS;
    this.#keyAlgorithm = opts.keyAlgorithm;
    this.#clock = opts.clock ?? systemClock;
    this.#rand = opts.rand;
    this.#retryMs = opts.retryMs ?? 2_000;
    this.#log = (opts.log ?? rootLog).child({ component: 'sds' });
    // One message object for every identity: encoded once (xds/snapshot/encode.ts).
    this.#bundle = trustBundleSecret(opts.ca.trustBundlePem);
  }

  get trustDomain(): string {
    return this.#ca.trustDomain;
  }

  /**
   * Makes sure `identity` has a certificate (issuing one if needed); false when it cannot
   * have one (not a workload SPIFFE ID of this trust domain, or issuance failed).
   */
  ensure(identity: string): Promise<boolean> {
    const entry = this.#entry(identity);
    if (entry === undefined) return Promise.resolve(false);
    entry.lastUsed = this.#clock.now();
    if (entry.rotation.current !== undefined) return Promise.resolve(true);
    return entry.rotation.rotate().then(
      () => true,
      () => false,
    );
  }

  /**
   * The SDS secrets for a proxy of this identity, synchronously (generators are pure and
   * sync). Unknown identity (plaintext mode): none. Not issued yet: the trust bundle only,
   * issuance starts, and `onRotate` fires when the certificate is ready.
   */
  secretsFor(identity: string | undefined): readonly Secret[] {
    if (identity === undefined || this.#closed) return [];
    const entry = this.#entry(identity);
    if (entry === undefined) return [];
    entry.lastUsed = this.#clock.now();
    const current = entry.rotation.current;
    // Sorted by name, as ResourceSet lists are: ROOTCA, default.
    if (current !== undefined) return [this.#bundle, current.cert];
    entry.rotation.rotate().catch(() => {}); // reported and retried by the rotation
    return [this.#bundle];
  }

  /** `listener(identity)` runs after an identity's certificate was issued or renewed. */
  onRotate(listener: (identity: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  status(): IdentityCertStatus[] {
    return [...this.#entries.values()]
      .flatMap((e) => {
        const current = e.rotation.current;
        return current && e.rotation.renewAt ? [{ identity: e.identity, ...statusOf(current, e.rotation.renewAt) }] : [];
      })
      .sort((a, b) => compareStrings(a.identity, b.identity));
  }

  /**
   * Root rotation: trust `ca`'s bundle and sign with its key from now on. A new bundle is
   * pushed to every identity's groups; a new signing key re-issues every certificate (the
   * `onRotate` listeners push each one). Idempotent: a later call with the same CA only
   * re-issues certificates that an issuance racing the switch signed with the previous key.
   */
  async setCa(ca: CertificateAuthority): Promise<void> {
    if (this.#closed) return;
    const bundleChanged = ca.trustBundlePem !== this.#ca.trustBundlePem;
    this.#ca = ca;
    this.#signer = fingerprintOf(ca.certPem);
    if (bundleChanged) this.#bundle = trustBundleSecret(ca.trustBundlePem);
    const stale = [...this.#entries.values()].filter((e) => e.rotation.current !== undefined && e.rotation.current.signer !== this.#signer);
    const fresh = [...this.#entries.values()].filter((e) => !stale.includes(e));
    if (bundleChanged) for (const e of fresh) this.#notify(e.identity);
    if (stale.length > 0) this.#log.info({ identities: stale.length }, 'CA signing key changed: re-issuing workload certificates');
    await Promise.allSettled(stale.map((e) => e.rotation.rotate()));
  }

  /**
   * What a proxy of `identity` holds once it ACKed the current secrets: the resource versions
   * (content hashes, as the ADS server reports them) of the trust bundle and of its certificate,
   * and whether that certificate comes from the current signing key.
   */
  expected(identity: string): { bundle: string; cert?: string; currentSigner: boolean } {
    const bundle = encodeResource(TypeUrl.Secret, SecretSchema, TRUST_BUNDLE_SECRET, this.#bundle).version;
    const current = this.#entries.get(identity)?.rotation.current;
    if (current === undefined) return { bundle, currentSigner: false };
    return {
      bundle,
      cert: encodeResource(TypeUrl.Secret, SecretSchema, WORKLOAD_CERT_SECRET, current.cert).version,
      currentSigner: current.signer === this.#signer,
    };
  }

  /** Stops renewals; secretsFor answers nothing afterwards. */
  close(): void {
    this.#closed = true;
    for (const e of this.#entries.values()) e.rotation.stop();
    this.#entries.clear();
    sdsMetrics.identities.set(0);
  }

  #entry(identity: string): Entry | undefined {
    const entry = this.#entries.get(identity);
    if (entry !== undefined || this.#closed) return entry;
    const parsed = parseSpiffeId(identity);
    if (!parsed.ok || parsed.identity.trustDomain !== this.#ca.trustDomain) {
      this.#log.warn({ identity }, 'no workload certificate for an identity outside this trust domain');
      return undefined;
    }
    const { namespace, serviceAccount } = parsed.identity;
    const self: Entry = {
      identity,
      lastUsed: 0,
      rotation: new Rotation<Issued>({
        issue: () => this.#issue(namespace, serviceAccount),
        notAfter: (c) => c.notAfter,
        install: (cert, previous) => this.#installed(self, cert, previous === undefined ? 'first' : 'renewal'),
        onError: (err, retryIn) => {
          sdsMetrics.failures.inc();
          this.#log.error({ identity, reason: errorMessage(err), retryIn }, 'workload certificate not issued');
        },
        // Nobody asked for this identity since its certificate was issued: let it go.
        keep: () => {
          const current = self.rotation.current;
          if (current === undefined || self.lastUsed >= current.issuedAt) return true;
          this.#entries.delete(identity);
          sdsMetrics.evicted.inc();
          sdsMetrics.identities.set(this.#entries.size);
          this.#log.info({ identity }, 'idle identity dropped instead of renewed');
          return false;
        },
        retryMs: this.#retryMs,
        clock: this.#clock,
        ...(this.#rand ? { rand: this.#rand } : {}),
      }),
    };
    this.#entries.set(identity, self);
    return self;
  }

  async #issue(namespace: string, serviceAccount: string): Promise<Issued> {
    const now = this.#clock.now();
    const ca = this.#ca; // setCa may swap it while the key is generated
    const signer = this.#signer;
    const r = await ca.issueSvid({
      namespace,
      serviceAccount,
      ttlMs: this.#ttlMs,
      now: new Date(now),
      ...(this.#keyAlgorithm ? { keyAlgorithm: this.#keyAlgorithm } : {}),
    });
    if (!r.ok) throw new Error(r.reason);
    if (r.cert.keyPem === undefined) throw new Error('no key');
    return {
      cert: workloadCertSecret(r.cert.chainPem, r.cert.keyPem),
      signer,
      serial: new X509Certificate(r.cert.certPem).serialNumber,
      notBefore: r.cert.notBefore,
      notAfter: r.cert.notAfter,
      issuedAt: now,
    };
  }

  #installed(entry: Entry, cert: Issued, reason: 'first' | 'renewal'): void {
    sdsMetrics.issued.inc({ reason });
    sdsMetrics.identities.set(this.#entries.size);
    this.#log.info({ identity: entry.identity, reason, ...statusOf(cert, entry.rotation.renewAt ?? new Date(cert.issuedAt)) }, 'workload certificate issued');
    this.#notify(entry.identity);
  }

  #notify(identity: string): void {
    for (const l of this.#listeners) {
      try {
        l(identity);
      } catch (err) {
        this.#log.error({ err, identity }, 'rotation listener failed');
      }
    }
  }
}

function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

function statusOf(i: Issued, renewAt: Date): Omit<IdentityCertStatus, 'identity'> {
  return { serial: i.serial, notBefore: i.notBefore.toISOString(), notAfter: i.notAfter.toISOString(), renewAt: renewAt.toISOString() };
}
