// RFC 6902 patch from the Pod as sent to the Pod as injected: fast-json-patch's `compare`.
// It diffs objects key by key and arrays index by index (new elements added at the end,
// surplus ones removed from the end, so indexes never shift while the patch applies). A type
// change becomes `replace`; keys are escaped per RFC 6901 (~ → ~0, / → ~1). An `undefined`
// member of the new document counts as absent (removed if it was there, never added), and
// added values are copied as JSON; the original is the AdmissionReview's object, parsed from
// JSON, so it has none.
// One addition keeps prepends small: the native sidecar goes *before* the app's init
// containers, and compare() would rewrite every existing element into its new neighbour.
// An array that is the original with elements put in front becomes `add`s at indexes 0..k-1
// (RFC 6902 inserts there, shifting the rest), and compare() sees that array unchanged.
import fjp from 'fast-json-patch';

export type JsonPatchOp = { op: 'add'; path: string; value: unknown } | { op: 'remove'; path: string } | { op: 'replace'; path: string; value: unknown };

/** A JSON Pointer (RFC 6901) reference token for an object key. */
export const escapePointer = (key: string): string => fjp.escapePathComponent(key);

export function jsonPatch(from: unknown, to: unknown): JsonPatchOp[] {
  const a = from ?? null;
  const b = to ?? null;
  // compare() expects two containers of one kind at the root (it recurses only into matching
  // kinds below): anything else there is one replace of the whole document, or nothing.
  if (!isContainer(a) || !isContainer(b) || Array.isArray(a) !== Array.isArray(b)) {
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ op: 'replace', path: '', value: b }];
  }
  const prepends: JsonPatchOp[] = [];
  const rest = withoutPrepends(a, b, '', prepends);
  return [...(fjp.compare(a, rest as object) as JsonPatchOp[]), ...prepends];
}

/**
 * A copy of `b` where every array that is `a`'s array with elements in front is put back to
 * `a`'s; `ops` gets the `add`s for those elements. Only where both sides have the same shape.
 */
function withoutPrepends(a: unknown, b: unknown, path: string, ops: JsonPatchOp[]): unknown {
  if (Array.isArray(a) && Array.isArray(b)) {
    const front = b.length - a.length;
    if (front > 0 && a.length > 0 && a.every((x, i) => sameJson(x, b[front + i]))) {
      for (let i = 0; i < front; i++) ops.push({ op: 'add', path: `${path}/${i}`, value: JSON.parse(JSON.stringify(b[i] ?? null)) as unknown });
      return a;
    }
    return b;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const out: Record<string, unknown> = { ...b };
    for (const k of Object.keys(b)) if (k in a) out[k] = withoutPrepends(a[k], b[k], `${path}/${escapePointer(k)}`, ops);
    return out;
  }
  return b;
}

function sameJson(x: unknown, y: unknown): boolean {
  return JSON.stringify(x) === JSON.stringify(y);
}

function isContainer(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return isContainer(v) && !Array.isArray(v);
}
