// `kubectl explain` is how a new user learns the API: every field of the three CRDs has a
// description (e2e/crds/explain.test.ts asks the real API server for them).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fileURLToPath } from 'node:url';

interface Schema {
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
}

const crdDir = fileURLToPath(new URL('../../crds', import.meta.url));
const files = readdirSync(crdDir).filter((n) => n.endsWith('.yaml'));

/** Every field path whose schema has no description (array items inherit their field's). */
function undescribed(s: Schema, path: string): string[] {
  const out: string[] = [];
  const visit = (child: Schema, at: string, field: boolean): void => {
    // metadata: the API server forbids anything but type there and explains ObjectMeta itself.
    if (field && !child.description?.trim() && at !== `${path}.metadata`) out.push(at);
    for (const [k, v] of Object.entries(child.properties ?? {})) visit(v, `${at}.${k}`, true);
    if (typeof child.additionalProperties === 'object') visit(child.additionalProperties, `${at}.*`, true);
    if (child.items) visit(child.items, `${at}[]`, false);
  };
  visit(s, path, true);
  return out;
}

describe.each(files)('%s', (file) => {
  it('describes every field', () => {
    const crd = parse(readFileSync(join(crdDir, file), 'utf8')) as {
      spec: { names: { kind: string }; versions: { schema: { openAPIV3Schema: Schema } }[] };
    };
    for (const v of crd.spec.versions) expect(undescribed(v.schema.openAPIV3Schema, crd.spec.names.kind)).toEqual([]);
  });
});
