// Table helpers for schema tests: a document either parses, or fails with a problem
// naming the expected field and a reason containing the expected text.
import { expect } from 'vitest';
import { parseObject, type ConfigObject } from '../../src/api/objects.ts';

export function expectValid(raw: unknown): ConfigObject {
  const res = parseObject(raw);
  if (!res.ok) expect.fail(`expected valid, got ${JSON.stringify(res.problems)}`);
  return res.object;
}

export function expectProblem(raw: unknown, field: string, reason: string | RegExp): void {
  const res = parseObject(raw);
  if (res.ok) expect.fail(`expected a problem at ${field}, but the document was accepted`);
  const hit = res.problems.find((p) => p.field === field);
  if (!hit) expect.fail(`expected a problem at ${field}, got ${JSON.stringify(res.problems)}`);
  if (typeof reason === 'string') expect(hit.reason).toContain(reason);
  else expect(hit.reason).toMatch(reason);
}

/** Deep-merges a patch into a copy of base (arrays replaced), for "base plus one mistake" cases. */
export function withPatch<T>(base: T, patch: Record<string, unknown>): T {
  const out = structuredClone(base) as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) {
    const cur = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
        ? withPatch(cur, v as Record<string, unknown>)
        : v;
  }
  return out as T;
}
