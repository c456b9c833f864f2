// Builders for the CRD parity table (cases.ts): short documents and the ok/bad row shapes.
import type { PolicyKind } from '../../src/api/objects.ts';

export interface WeftDoc {
  apiVersion: 'mesh.weft.dev/v1alpha1';
  kind: PolicyKind;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: unknown;
}

export interface CrdCase {
  readonly name: string;
  readonly doc: WeftDoc;
  /** Absent: both accept. Present: both reject, naming this field (overrides when their spellings differ). */
  readonly rejects?: { readonly field: string; readonly zodField?: string; readonly apiField?: string };
  readonly loose?: string;
}

export function doc(kind: PolicyKind, spec: unknown): WeftDoc {
  const d: WeftDoc = { apiVersion: 'mesh.weft.dev/v1alpha1', kind, metadata: { name: 'parity' } };
  if (spec !== undefined) d.spec = spec;
  return d;
}

// Fixture builders: a valid baseline per kind, overridden per case.
export const split = (over: Record<string, unknown> = {}) =>
  doc('TrafficSplit', {
    service: 'checkout',
    backends: [
      { service: 'checkout-v1', weight: 90 },
      { service: 'checkout-v2', weight: 10 },
    ],
    ...over,
  });
export const match = (m: Record<string, unknown>) => split({ matches: [m] });
export const retry = (over: Record<string, unknown> = {}) => doc('RetryPolicy', { targetRef: { kind: 'Service', name: 'inventory' }, ...over });
export const peer = (spec?: unknown) => doc('PeerAuth', spec);
export const rateLimit = (over: Record<string, unknown> = {}) =>
  doc('RateLimitPolicy', { targetRef: { kind: 'Service', name: 'inventory' }, limit: { requests: 100 }, ...over });
export const rlRule = (rule: Record<string, unknown>) => rateLimit({ rules: [rule] });
export const fault = (over: Record<string, unknown> = {}) =>
  doc('FaultPolicy', { targetRef: { kind: 'Service', name: 'inventory' }, abort: { httpStatus: 503, percentage: 50 }, ...over });
export const app = { matchLabels: { app: 'payments' } };

export const backends = (n: number) => Array.from({ length: n }, (_, i) => ({ service: `b${i}`, weight: 1 }));
export const headers = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `x-h${i}`, value: 'v' }));
export const ports = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [String(1000 + i), { mode: 'STRICT' }]));
export const labels = (matchLabels: Record<string, unknown>) => peer({ selector: { matchLabels } });
/** `d` with one more top-level field (a typo, or null for spec). */
export const withField = (d: WeftDoc, field: string, value: unknown): WeftDoc => ({ ...d, [field]: value });
export const prefix253 = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)].join('.');

export const ok = (name: string, d: WeftDoc, loose?: string): CrdCase => (loose ? { name, doc: d, loose } : { name, doc: d });
export const bad = (name: string, d: WeftDoc, field: string, spellings: { zodField?: string; apiField?: string } = {}): CrdCase => ({
  name,
  doc: d,
  rejects: { field, ...spellings },
});
