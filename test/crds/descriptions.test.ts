// `kubectl explain` is how a new user learns the API: every field of the three CRDs has a
// description, and the real API server serves it (published OpenAPI, not just the file).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubectl, repoRoot, waitFor } from '../../e2e/support/kube.ts';

interface Schema {
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
}

const crdDir = join(repoRoot, 'crds');
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

describe('kubectl explain on a real API server', () => {
  beforeAll(async () => {
    await kubectl(['apply', '--server-side', '--field-manager=weft-e2e', '--force-conflicts', '-f', crdDir]);
    for (const f of files) await waitFor('condition=Established', `crd/${f.replace(/\.yaml$/, '')}.mesh.weft.dev`);
  }, 900_000); // may start the cluster (e2e/cluster/up.sh)

  it.each([
    ['trafficsplit.spec.backends.weight', 'weights need not sum to 100'],
    ['retrypolicy.spec.outlierDetection.baseEjectionTime', 'How long an endpoint stays ejected'],
    ['peerauth.spec.portLevelMtls', 'keyed by port number'],
    ['ts.status.conditions.reason', 'CamelCase'],
  ])('%s', async (field, text) => {
    // The OpenAPI publisher picks up a CRD change a moment after Established: retry briefly.
    let last = '';
    for (let i = 0; i < 40; i++) {
      const r = await kubectl(['explain', field], { allowFailure: true });
      last = r.stdout + r.stderr;
      if (r.code === 0 && last.includes(text)) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    expect(last).toContain(text);
  });
});
