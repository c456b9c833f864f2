import { describe, expect, it } from 'vitest';
import { renewAt } from '../../src/base/rotation.ts';

const H = 3_600_000;
const issued = new Date('2025-01-01T00:00:00Z');
const cert = { notBefore: issued, notAfter: new Date(issued.getTime() + 24 * H) };

describe('renewAt', () => {
  it('renews at half life when the jitter draw is centred', () => {
    expect(renewAt(cert, issued, () => 0.5).getTime()).toBe(issued.getTime() + 12 * H);
  });

  it('spreads renewals over ±10 % of the lifetime', () => {
    expect(renewAt(cert, issued, () => 0).getTime()).toBe(issued.getTime() + 12 * H - 2.4 * H);
    expect(renewAt(cert, issued, () => 0.999999).getTime()).toBeCloseTo(issued.getTime() + 14.4 * H, -3);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < 1000; i++) {
      const t = renewAt(cert, issued, Math.random).getTime();
      lo = Math.min(lo, t);
      hi = Math.max(hi, t);
    }
    expect(lo).toBeGreaterThanOrEqual(issued.getTime() + 9.6 * H);
    expect(hi).toBeLessThanOrEqual(issued.getTime() + 14.4 * H);
  });

  it('renews at once when already past the window, but never after expiry', () => {
    const late = new Date(issued.getTime() + 20 * H);
    expect(renewAt(cert, late, () => 0.5)).toEqual(late);
    const expired = new Date(issued.getTime() + 30 * H);
    expect(renewAt(cert, expired, () => 0.5)).toEqual(cert.notAfter);
  });

  it('scales to short lifetimes (the 2-minute rotation test)', () => {
    const short = { notBefore: issued, notAfter: new Date(issued.getTime() + 120_000) };
    expect(renewAt(short, issued, () => 0.5).getTime()).toBe(issued.getTime() + 60_000);
  });

  it('treats an inverted validity as due now', () => {
    expect(renewAt({ notBefore: cert.notAfter, notAfter: issued }, issued, () => 0.5)).toEqual(issued);
  });
});
