// Canonical serialization for content hashes: object keys sorted, Maps as sorted entry
// lists, undefined dropped. Equal models serialize to equal bytes, whatever the input order.
import { createHash } from 'node:crypto';
import { compareStrings } from '../base/order.ts';

function normalize(value: unknown): unknown {
  if (value instanceof Map) {
    return [...value.entries()].map(([k, v]) => [String(k), normalize(v)] as const).sort(([a], [b]) => compareStrings(a, b));
  }
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = normalize(v);
    }
    return out;
  }
  return value;
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalize(value));
}

export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
