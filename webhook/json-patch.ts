// RFC 6902 patch from an original document to a mutated copy. Objects are diffed key by key;
// arrays element by element over their common length, then `add` for each new element at the
// end (or `remove` from the end when shorter) — indexes never shift, so the patch is always
// correct. One exception keeps prepends small: when the new array is the old one with
// elements put in front (the native sidecar goes before the app's init containers), those
// are `add`ed at their indexes (RFC 6902 inserts there) instead of rewriting every element.
// Type changes become `replace`.
// Keys are escaped per RFC 6901 (~ → ~0, / → ~1). `undefined` values count as absent.

export type JsonPatchOp = { op: 'add'; path: string; value: unknown } | { op: 'remove'; path: string } | { op: 'replace'; path: string; value: unknown };

export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function jsonPatch(from: unknown, to: unknown): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  diff(from, to, '', ops);
  return ops;
}

function diff(a: unknown, b: unknown, path: string, ops: JsonPatchOp[]): void {
  if (deepEqual(a, b)) return;
  if (isObject(a) && isObject(b)) {
    for (const k of Object.keys(a)) {
      if (a[k] === undefined) continue;
      if (b[k] === undefined) ops.push({ op: 'remove', path: `${path}/${escapePointer(k)}` });
      else diff(a[k], b[k], `${path}/${escapePointer(k)}`, ops);
    }
    for (const k of Object.keys(b)) {
      if (b[k] !== undefined && a[k] === undefined) ops.push({ op: 'add', path: `${path}/${escapePointer(k)}`, value: clean(b[k]) });
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const front = b.length - a.length;
    if (front > 0 && a.length > 0 && a.every((x, i) => deepEqual(x, b[front + i]))) {
      for (let i = 0; i < front; i++) ops.push({ op: 'add', path: `${path}/${i}`, value: clean(b[i]) });
      return;
    }
    const common = Math.min(a.length, b.length);
    for (let i = 0; i < common; i++) diff(a[i], b[i], `${path}/${i}`, ops);
    for (let i = common; i < b.length; i++) ops.push({ op: 'add', path: `${path}/${i}`, value: clean(b[i]) });
    // Remove from the end so earlier indexes stay valid while the patch applies.
    for (let i = a.length - 1; i >= common; i--) ops.push({ op: 'remove', path: `${path}/${i}` });
    return;
  }
  ops.push({ op: 'replace', path, value: clean(b) });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON equality, with undefined object members treated as absent. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

// Values go out as JSON; dropping undefined members here keeps the patch equal to its JSON form.
function clean(v: unknown): unknown {
  return v === undefined ? null : JSON.parse(JSON.stringify(v));
}
