// Content hashes used as xDS versions: equal content, equal version, across restarts and
// replicas (no counters), so a reconnecting proxy's version_info is still meaningful.
import { createHash } from 'node:crypto';

/** 16 hex characters (64 bits) of sha256: short enough for logs, far from collisions. */
const HASH_CHARS = 16;

export function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, HASH_CHARS);
}

/** Hash of an ordered list of strings; the separator keeps ["ab","c"] ≠ ["a","bc"]. */
export function hashStrings(parts: Iterable<string>): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(p);
    h.update('\0');
  }
  return h.digest('hex').slice(0, HASH_CHARS);
}

/** Version of a set of resources: hash over name/version pairs in name order. */
export function hashResourceVersions(resources: Iterable<{ readonly name: string; readonly version: string }>): string {
  const pairs = [...resources].map((r) => `${r.name}\u0001${r.version}`);
  pairs.sort();
  return hashStrings(pairs);
}
