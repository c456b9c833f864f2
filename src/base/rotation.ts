// Certificate rotation: issue → install → renew at about half the lifetime → on failure,
// retry with backoff while the installed certificate keeps serving. One loop for the xDS
// serving certificate, the webhook's, and every workload identity's SVID.
//
// When to renew: notBefore + lifetime × (0.5 ± 0.1), spread by a random draw so thousands of
// certificates issued together don't all come back in the same second; measured from the
// moment issuance started (a CA backdates notBefore for clock skew, which would make a
// short-lived certificate due at once). Long waits (days) outlast setTimeout's ceiling: a
// timer that fires early re-checks the clock and re-arms.
import { systemClock, type Clock, type Timer } from './clock.ts';
import { certificateExpiry } from './metrics.ts';

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Fraction of the lifetime the renewal moment may move either way. */
export const RENEW_JITTER = 0.1;

/**
 * The moment to renew: notBefore + lifetime × (0.5 ± RENEW_JITTER), `rand()` in [0, 1)
 * choosing where in that window. Never earlier than `now` (a late caller renews at once)
 * and never later than notAfter. Pure.
 */
export function renewAt(cert: Validity, now: Date, rand: () => number): Date {
  const start = cert.notBefore.getTime();
  const life = cert.notAfter.getTime() - start;
  if (!(life > 0)) return now;
  const r = Math.min(Math.max(rand(), 0), 1);
  const at = start + life * (0.5 + (2 * r - 1) * RENEW_JITTER);
  return new Date(Math.min(Math.max(at, now.getTime()), cert.notAfter.getTime()));
}

export interface RotationOptions<T> {
  /** Issues a new certificate; throws when it cannot. */
  readonly issue: () => Promise<T>;
  /** Its expiry, which sets the renewal point. */
  readonly notAfter: (cert: T) => Date;
  /** Puts `cert` in service; `previous` is undefined for the first one. */
  readonly install: (cert: T, previous: T | undefined) => void;
  /** An issuance failed; the installed certificate (if any) keeps serving and the next try comes in `retryInMs`. */
  readonly onError: (err: unknown, retryInMs: number) => void;
  /** Asked when a scheduled renewal or retry is due: false stops the rotation instead (e.g. nobody uses the certificate). */
  readonly keep?: () => boolean;
  /** First retry after a failure (default 2 s), doubling up to `maxRetryMs` (default 1 min). */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
  /** Jitter source for renewAt, [0, 1) (default Math.random). */
  readonly rand?: () => number;
  readonly clock?: Clock;
  /** Exports the installed certificate's expiry as weft_certificate_expiry_timestamp_seconds{certificate=<this>}. */
  readonly metricName?: string;
}

export class Rotation<T> {
  readonly #o: RotationOptions<T>;
  readonly #clock: Clock;
  #current: T | undefined;
  #renewAt: Date | undefined;
  #pending: Promise<T> | undefined;
  #timer: Timer | undefined;
  #failures = 0;
  #stopped = false;

  constructor(opts: RotationOptions<T>) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  /** The installed certificate, if any. */
  get current(): T | undefined {
    return this.#current;
  }

  /** When the installed certificate will be renewed. */
  get renewAt(): Date | undefined {
    return this.#renewAt;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Issues and installs a certificate now (concurrent callers share one issuance), then
   * schedules its renewal. On failure: schedules a retry with backoff and rejects.
   */
  rotate(): Promise<T> {
    if (this.#stopped) return Promise.reject(new Error('rotation stopped'));
    this.#pending ??= this.#rotate().finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  /** No more renewals or retries; an issuance in flight is not installed. */
  stop(): void {
    this.#stopped = true;
    this.#clock.clearTimeout(this.#timer);
  }

  async #rotate(): Promise<T> {
    const started = this.#clock.now();
    let cert: T;
    try {
      cert = await this.#o.issue();
    } catch (err) {
      if (this.#stopped) throw err;
      this.#failures++;
      const retryIn = Math.min((this.#o.retryMs ?? 2_000) * 2 ** (this.#failures - 1), this.#o.maxRetryMs ?? 60_000);
      this.#o.onError(err, retryIn);
      this.#arm(this.#clock.now() + retryIn);
      throw err;
    }
    if (this.#stopped) throw new Error('rotation stopped');
    const previous = this.#current;
    this.#current = cert;
    this.#failures = 0;
    const at = renewAt({ notBefore: new Date(started), notAfter: this.#o.notAfter(cert) }, new Date(started), this.#o.rand ?? Math.random);
    this.#renewAt = at;
    this.#o.install(cert, previous);
    if (this.#o.metricName !== undefined) certificateExpiry.set({ certificate: this.#o.metricName }, this.#o.notAfter(cert).getTime() / 1000);
    this.#arm(at.getTime());
    return cert;
  }

  #arm(due: number): void {
    this.#clock.clearTimeout(this.#timer);
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimeout(() => {
      if (this.#stopped) return;
      if (due - this.#clock.now() > 1_000) return this.#arm(due); // woke early: a wait past setTimeout's ceiling
      if (this.#o.keep?.() === false) return this.stop();
      this.rotate().catch(() => {}); // reported through onError, retried by #arm
    }, due - this.#clock.now());
    this.#timer.unref?.();
  }
}
