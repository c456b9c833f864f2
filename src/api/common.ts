// Pieces shared by every kind's schema: object metadata, name formats, and turning
// zod issues into { field, reason } problems.
import { z } from 'zod';
import {
  DNS1035_LABEL,
  DNS1123_LABEL,
  DNS1123_SUBDOMAIN,
  DNS_LABEL_MAX,
  DNS_SUBDOMAIN_MAX,
  LABEL_KEY,
  LABEL_NAME_MAX,
  LABEL_PREFIX_MAX,
  LABEL_VALUE,
  LABEL_VALUE_MAX,
  PORT_MAX,
  PORT_MIN,
} from './bounds.ts';

export interface FieldProblem {
  readonly field: string;
  readonly reason: string;
}

export const dns1035Label = z
  .string({ error: 'must be a string' })
  .max(DNS_LABEL_MAX, { error: `must be at most ${DNS_LABEL_MAX} characters` })
  .regex(DNS1035_LABEL, { error: 'must be a DNS-1035 label (lowercase letters, digits, "-"; starting with a letter)' });

export const dns1123Label = z
  .string({ error: 'must be a string' })
  .max(DNS_LABEL_MAX, { error: `must be at most ${DNS_LABEL_MAX} characters` })
  .regex(DNS1123_LABEL, { error: 'must be a DNS-1123 label (lowercase letters, digits, "-")' });

export const dns1123Subdomain = z
  .string({ error: 'must be a string' })
  .max(DNS_SUBDOMAIN_MAX, { error: `must be at most ${DNS_SUBDOMAIN_MAX} characters` })
  .regex(DNS1123_SUBDOMAIN, { error: 'must be a DNS-1123 subdomain (lowercase letters, digits, "-", ".")' });

export const portNumber = z
  .int({ error: 'must be an integer' })
  .min(PORT_MIN, { error: `must be between ${PORT_MIN} and ${PORT_MAX}` })
  .max(PORT_MAX, { error: `must be between ${PORT_MIN} and ${PORT_MAX}` });

export const protocol = z.enum(['TCP', 'UDP', 'SCTP'], { error: 'must be one of TCP, UDP, SCTP' });

export const stringMap = z.record(z.string(), z.string({ error: 'must be a string' }), {
  error: 'must be a map of string to string',
});

const LABEL_NAME_SYNTAX = 'letters, digits, "-", "_" and ".", starting and ending with a letter or digit';

/** Why `key` is not a Kubernetes label key, or undefined when it is one. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? '' : key.slice(0, slash);
  const name = key.slice(slash + 1);
  if (!LABEL_KEY.test(key) || prefix.length > LABEL_PREFIX_MAX || name.length > LABEL_NAME_MAX) {
    return (
      `key ${JSON.stringify(key)} must be a label key: an optional DNS subdomain prefix (at most ${LABEL_PREFIX_MAX} characters) ` +
      `and "/", then a name of at most ${LABEL_NAME_MAX} characters (${LABEL_NAME_SYNTAX})`
    );
  }
  return undefined;
}

const LABEL_VALUE_ERROR = `must be a label value: empty, or at most ${LABEL_VALUE_MAX} characters (${LABEL_NAME_SYNTAX})`;
export const labelValue = z
  .string({ error: 'must be a string' })
  .max(LABEL_VALUE_MAX, { error: LABEL_VALUE_ERROR })
  .regex(LABEL_VALUE, { error: LABEL_VALUE_ERROR });

/** creationTimestamp arrives as a string from YAML and as a Date from client-node. */
const timestamp = z.union([z.string(), z.date()], { error: 'must be an RFC 3339 timestamp' }).transform((t) => {
  return typeof t === 'string' ? t : t.toISOString();
});

/** ObjectMeta, the fields Weft reads; a missing namespace means `default`. */
export function metadata(name: z.ZodType<string>) {
  return z.object(
    {
      name,
      namespace: dns1123Label.default('default'),
      labels: stringMap.optional(),
      annotations: stringMap.optional(),
      generation: z.int({ error: 'must be an integer' }).min(0, { error: 'must be >= 0' }).optional(),
      uid: z.string({ error: 'must be a string' }).optional(),
      resourceVersion: z.string({ error: 'must be a string' }).optional(),
      creationTimestamp: timestamp.optional(),
    },
    { error: 'must be an object' },
  );
}

/** `spec.backends[0].weight`, `metadata.labels["kubernetes.io/service-name"]`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out || '(root)';
}

/** One problem per issue; an unknown-fields issue becomes one problem per field, naming it. */
export function problemsFrom(error: z.ZodError): FieldProblem[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: fieldPath([...issue.path, key]), reason: issue.message }))
      : [{ field: fieldPath(issue.path), reason: issue.message }],
  );
}
