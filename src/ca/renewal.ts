// When to renew a certificate: at about half its life, spread by ±10 % of the lifetime so
// thousands of proxies issued together don't all come back in the same second. Pure: the
// clock and the random source are inputs.

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Fraction of the lifetime the renewal moment may move either way. */
export const RENEW_JITTER = 0.1;

/**
 * The moment to renew `cert`: notBefore + lifetime × (0.5 ± 0.1), `rand()` in [0, 1) choosing
 * where in that window. Never earlier than `now` (a late caller renews at once) and never
 * later than notAfter.
 */
export function renewAt(cert: Validity, now: Date, rand: () => number): Date {
  const start = cert.notBefore.getTime();
  const life = cert.notAfter.getTime() - start;
  if (!(life > 0)) return now;
  const r = Math.min(Math.max(rand(), 0), 1);
  const at = start + life * (0.5 + (2 * r - 1) * RENEW_JITTER);
  return new Date(Math.min(Math.max(at, now.getTime()), cert.notAfter.getTime()));
}
