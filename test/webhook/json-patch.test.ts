// The diff must produce patches a standard RFC 6902 applier (fast-json-patch) turns back into
// exactly the target document.
import fjp from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { escapePointer, jsonPatch } from '../../webhook/json-patch.ts';

function roundTrip(a: unknown, b: unknown): void {
  const ops = jsonPatch(a, b);
  const out = fjp.applyPatch(structuredClone(a), ops as fjp.Operation[], true, false).newDocument;
  expect(out).toEqual(JSON.parse(JSON.stringify(b)));
}

describe('jsonPatch', () => {
  it('escapes ~ and / in keys (RFC 6901)', () => {
    expect(escapePointer('a/b~c')).toBe('a~1b~0c');
    const ops = jsonPatch({ m: {} }, { m: { 'weft.dev/status': 'x', '~': 'y' } });
    expect(ops.map((o) => o.path)).toEqual(['/m/weft.dev~1status', '/m/~0']);
  });

  it('is empty for equal documents, ignoring undefined members', () => {
    expect(jsonPatch({ a: [1, { b: 2 }] }, { a: [1, { b: 2, c: undefined }] })).toEqual([]);
  });

  it.each([
    ['append', { a: [1, 2] }, { a: [1, 2, 3, 4] }],
    ['shrink', { a: [1, 2, 3, 4] }, { a: [1] }],
    ['modify and append', { a: [{ x: 1 }, { y: 2 }] }, { a: [{ x: 9 }, { y: 2 }, { z: 3 }] }],
    ['type change', { a: [1] }, { a: { 0: 1 } }],
    ['add and remove keys', { a: 1, b: 2 }, { b: 3, c: { d: [] } }],
    ['root replace', [1, 2], { x: 1 }],
    // fast-json-patch's compare() alone turns this into a replace plus a stray add ([1, 1]).
    ['root object to array', { k: 1 }, [1]],
    ['root scalar', 1, { a: 1 }],
    ['nested arrays', { a: [[1], [2, 3]] }, { a: [[1, 0], [3]] }],
    ['null values', { a: null }, { a: { b: null } }],
    ['prepend', { a: [{ n: 'app-init' }] }, { a: [{ n: 'weft-init' }, { n: 'weft-proxy' }, { n: 'app-init' }] }],
    ['prepend to a modified tail', { a: [1, 2] }, { a: [0, 1, 3] }],
  ])('%s round-trips', (_n, a, b) => roundTrip(a, b));

  it('prepends with inserts at the front, leaving the existing elements alone', () => {
    const ops = jsonPatch({ a: [{ n: 'app-init' }] }, { a: [{ n: 'weft-init' }, { n: 'weft-proxy' }, { n: 'app-init' }] });
    expect(ops).toEqual([
      { op: 'add', path: '/a/0', value: { n: 'weft-init' } },
      { op: 'add', path: '/a/1', value: { n: 'weft-proxy' } },
    ]);
  });

  it('round-trips random documents', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const gen = (depth: number): unknown => {
      const r = rand();
      if (depth > 3 || r < 0.3) return [null, true, 1, 'a/b', '~'][Math.floor(rand() * 5)];
      if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => gen(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, () => [['k', 'a/b', '~x', ''][Math.floor(rand() * 4)] ?? 'k', gen(depth + 1)]));
    };
    for (let i = 0; i < 500; i++) roundTrip(gen(0), gen(0));
  });
});
