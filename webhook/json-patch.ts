// RFC 6902 patch from the Pod as sent to the Pod as injected: fast-json-patch's `compare`.
// It diffs objects key by key and arrays index by index (new elements added at the end,
// surplus ones removed from the end, so indexes never shift while the patch applies);
// injection only appends, which keeps patches small. A type change becomes `replace`; keys
// are escaped per RFC 6901 (~ → ~0, / → ~1). An `undefined` member of the new document
// counts as absent (removed if it was there, never added), and added values are copied as
// JSON; the original is the AdmissionReview's object, parsed from JSON, so it has none.
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
  return fjp.compare(a, b) as JsonPatchOp[];
}

function isContainer(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}
