// Shared by the mesh.weft.dev kinds: how every Weft object reads the way the API server
// reads it. Unknown fields are errors (kubectl's strict field validation rejects them, and
// a typo such as `retryon` must not silently drop a setting from a file either). A null
// in a declared field means absent: the API server drops nulls of non-nullable fields
// (none of Weft's are nullable) before defaulting and validation.
import { z } from 'zod';
import { dns1123Subdomain, metadata } from './common.ts';

export const WEFT_API_VERSION = 'mesh.weft.dev/v1alpha1';
export const weftApiVersion = z.literal(WEFT_API_VERSION);
export const weftMetadata = metadata(dns1123Subdomain);

/** Adds `message` at `path` when `bad` is true; keeps cross-field rules readable. */
export function check(ctx: z.RefinementCtx, bad: boolean, path: PropertyKey[], message: string): void {
  if (bad) ctx.addIssue({ code: 'custom', path, message });
}

/** `value` without the null entries whose key passes `drop` (a copy; the input is untouched). */
function withoutNulls(value: unknown, drop: (key: string) => boolean): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const entries = Object.entries(value);
  if (!entries.some(([k, v]) => v === null && drop(k))) return value;
  return Object.fromEntries(entries.filter(([k, v]) => !(v === null && drop(k))));
}

/** A Weft object: strict (an unknown field is a problem naming it), null in a declared field = absent. */
export function weftObject<S extends z.core.$ZodShape>(shape: S) {
  const fields = Object.keys(shape);
  const declared = new Set(fields);
  return z.preprocess(
    (value) => withoutNulls(value, (k) => declared.has(k)),
    z.strictObject(shape, {
      error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field; expected one of ${fields.join(', ')}` : 'must be an object'),
    }),
  );
}

/** A map in a Weft object; the API server drops null values here too. */
export function weftMap<V extends z.ZodType>(value: V, error: string) {
  return z.preprocess((v) => withoutNulls(v, () => true), z.record(z.string(), value, { error }));
}

/**
 * A whole Weft custom resource: strict at the top (so `sepc:` is an error, not an empty
 * spec), metadata tolerant (the server adds managedFields and more), status ignored: the
 * controller writes it and the model never reads it, so it is dropped from the output.
 */
export function weftResource<K extends string, S extends z.ZodType>(kind: K, spec: S) {
  return weftObject({
    apiVersion: weftApiVersion,
    kind: z.literal(kind),
    metadata: weftMetadata,
    spec,
    status: z.unknown().optional(),
  }).transform(({ status: _status, ...object }) => object);
}
