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
import { renewAt } from '../../src/ca/renewal.ts';
import { parseSpiffeId } from '../../src/ca/spiffe.ts';
import { log as rootLog, type Logger } from '../../src/base/log.ts';
import type { Secret } from '../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { sdsMetrics } from './metrics.ts';
import { trustBundleSecret, workloadCertSecret } from './resources.ts';
import { errorMessage } from '../../src/base/errors.ts';
import { compareStrings } from '../../src/base/order.ts';

export interface WorkloadSecretsOptions {
  readonly ca: CertificateAuthority;
  /** Workload certificate lifetime (default 24 h). */
  readonly ttlMs?: number;
  readonly keyAlgorithm?: KeyAlgorithm;
  readonly now?: () => Date;
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
  /** Sorted by name, as ResourceSet lists are: ROOTCA, default. */
  readonly secrets: readonly Secret[];
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly renewAt: Date;
  readonly issuedAt: number;
}

interface Entry {
  readonly identity: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  current?: Issued;
  pending?: Promise<boolean>;
  timer?: NodeJS.Timeout;
  lastUsed: number;
  failures: number;
}

/** setTimeout's ceiling (~24.8 days); longer waits re-arm when they fire. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class WorkloadSecrets {
  readonly #ca: CertificateAuthority;
  readonly #ttlMs: number;
  readonly #keyAlgorithm: KeyAlgorithm | undefined;
  readonly #now: () => Date;
  readonly #rand: () => number;
  readonly #retryMs: number;
  readonly #log: Logger;
  readonly #bundle: Secret;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<(identity: string) => void>();
  #closed = false;

  constructor(opts: WorkloadSecretsOptions) {
    this.#ca = opts.ca;
    this.#ttlMs = opts.ttlMs ?? DEFAULT_SVID_TTL_MS;
    this.#keyAlgorithm = opts.keyAlgorithm;
    this.#now = opts.now ?? (() => new Date());
    this.#rand = opts.rand ?? Math.random;
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
    entry.lastUsed = this.#now().getTime();
    if (entry.current !== undefined) return Promise.resolve(true);
    return this.#issue(entry, 'first');
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
    entry.lastUsed = this.#now().getTime();
    if (entry.current !== undefined) return entry.current.secrets;
    void this.#issue(entry, 'first');
    return [this.#bundle];
  }

  /** `listener(identity)` runs after an identity's certificate was issued or renewed. */
  onRotate(listener: (identity: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  status(): IdentityCertStatus[] {
    return [...this.#entries.values()]
      .flatMap((e) => (e.current ? [{ identity: e.identity, ...statusOf(e.current) }] : []))
      .sort((a, b) => compareStrings(a.identity, b.identity));
  }

  /** Stops renewals; secretsFor answers nothing afterwards. */
  close(): void {
    this.#closed = true;
    for (const e of this.#entries.values()) clearTimeout(e.timer);
    this.#entries.clear();
    sdsMetrics.identities.set(0);
  }

  #entry(identity: string): Entry | undefined {
    let entry = this.#entries.get(identity);
    if (entry !== undefined || this.#closed) return entry;
    const parsed = parseSpiffeId(identity);
    if (!parsed.ok || parsed.identity.trustDomain !== this.#ca.trustDomain) {
      this.#log.warn({ identity }, 'no workload certificate for an identity outside this trust domain');
      return undefined;
    }
    entry = { identity, namespace: parsed.identity.namespace, serviceAccount: parsed.identity.serviceAccount, lastUsed: 0, failures: 0 };
    this.#entries.set(identity, entry);
    return entry;
  }

  /** One issuance at a time per identity; concurrent callers share it. */
  #issue(entry: Entry, reason: 'first' | 'renewal'): Promise<boolean> {
    entry.pending ??= this.#doIssue(entry, reason).finally(() => {
      entry.pending = undefined;
    });
    return entry.pending;
  }

  async #doIssue(entry: Entry, reason: 'first' | 'renewal'): Promise<boolean> {
    const now = this.#now();
    let result;
    try {
      result = await this.#ca.issueSvid({
        namespace: entry.namespace,
        serviceAccount: entry.serviceAccount,
        ttlMs: this.#ttlMs,
        now,
        ...(this.#keyAlgorithm ? { keyAlgorithm: this.#keyAlgorithm } : {}),
      });
    } catch (err) {
      result = { ok: false as const, reason: errorMessage(err) };
    }
    if (this.#closed || this.#entries.get(entry.identity) !== entry) return false;
    if (!result.ok || result.cert.keyPem === undefined) {
      entry.failures++;
      sdsMetrics.failures.inc();
      const retryIn = Math.min(this.#retryMs * 2 ** (entry.failures - 1), 60_000);
      this.#log.error({ identity: entry.identity, reason: result.ok ? 'no key' : result.reason, retryIn }, 'workload certificate not issued');
      this.#arm(entry, retryIn, reason);
      return false;
    }
    const cert = result.cert;
    // Half of the life from issuance: notBefore is backdated a minute for clock skew, which
    // would make a short-lived certificate (minutes) due for renewal the moment it is issued.
    const at = renewAt({ notBefore: now, notAfter: cert.notAfter }, now, this.#rand);
    entry.current = {
      secrets: [this.#bundle, workloadCertSecret(cert.chainPem, cert.keyPem!)],
      serial: new X509Certificate(cert.certPem).serialNumber,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      renewAt: at,
      issuedAt: now.getTime(),
    };
    entry.failures = 0;
    sdsMetrics.issued.inc({ reason });
    sdsMetrics.identities.set(this.#entries.size);
    this.#log.info({ identity: entry.identity, reason, ...statusOf(entry.current) }, 'workload certificate issued');
    this.#arm(entry, at.getTime() - now.getTime(), 'renewal');
    for (const l of this.#listeners) {
      try {
        l(entry.identity);
      } catch (err) {
        this.#log.error({ err, identity: entry.identity }, 'rotation listener failed');
      }
    }
    return true;
  }

  #arm(entry: Entry, delayMs: number, reason: 'first' | 'renewal'): void {
    clearTimeout(entry.timer);
    const due = this.#now().getTime() + Math.max(0, delayMs);
    const fire = (): void => {
      if (this.#closed || this.#entries.get(entry.identity) !== entry) return;
      const left = due - this.#now().getTime();
      if (left > 1_000) {
        entry.timer = setTimeout(fire, Math.min(left, MAX_TIMER_MS)).unref();
        return;
      }
      if (entry.current !== undefined && entry.lastUsed < entry.current.issuedAt) {
        // Nobody asked for this identity since its certificate was issued: let it go.
        this.#entries.delete(entry.identity);
        sdsMetrics.evicted.inc();
        sdsMetrics.identities.set(this.#entries.size);
        this.#log.info({ identity: entry.identity }, 'idle identity dropped instead of renewed');
        return;
      }
      void this.#issue(entry, entry.current === undefined ? reason : 'renewal');
    };
    entry.timer = setTimeout(fire, Math.min(Math.max(0, delayMs), MAX_TIMER_MS)).unref();
  }
}

function statusOf(i: Issued): Omit<IdentityCertStatus, 'identity'> {
  return { serial: i.serial, notBefore: i.notBefore.toISOString(), notAfter: i.notAfter.toISOString(), renewAt: i.renewAt.toISOString() };
}
