// zod (parseObject) and the CRDs, judged by a real kube-apiserver (server-side dry-run
// create with strict field validation, as `kubectl` does by default), must accept and
// reject the same documents, and every rejection must name the field.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseObject } from '../../src/api/objects.ts';
import { kubectl, repoRoot, tempNamespace, toYaml, waitFor } from '../support/kube.ts';
import { cases, type WeftDoc } from '../../test/crds/cases.ts';

const crdDir = join(repoRoot, 'crds');
let namespace = '';

beforeAll(async () => {
  // Server-side apply: the CRDs are too large for the last-applied annotation.
  await kubectl(['apply', '--server-side', '--field-manager=weft-e2e', '--force-conflicts', '-f', crdDir]);
  for (const f of readdirSync(crdDir).filter((n) => n.endsWith('.yaml'))) {
    await waitFor('condition=Established', `crd/${f.replace(/\.yaml$/, '')}.mesh.weft.dev`);
  }
  namespace = await tempNamespace('crd-parity');
}, 900_000); // may start the cluster (e2e/cluster/up.sh)

async function apiVerdict(doc: WeftDoc): Promise<{ ok: boolean; message: string }> {
  const r = await kubectl(['create', '--dry-run=server', '--validate=strict', '-n', namespace, '-f', '-'], {
    input: toYaml(doc),
    allowFailure: true,
  });
  return { ok: r.code === 0, message: r.stderr.trim() };
}

describe.concurrent('zod and the CRDs agree', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const zod = parseObject(c.doc);
    const api = await apiVerdict(c.doc);
    const zodSays = zod.ok ? 'accept' : `reject: ${JSON.stringify(zod.problems)}`;
    const apiSays = api.ok ? 'accept' : `reject: ${api.message}`;
    const want = c.rejects ? 'reject' : 'accept';
    expect({ zod: zodSays.split(':')[0], api: apiSays.split(':')[0] }, `zod ${zodSays}\nAPI ${apiSays}`).toEqual({ zod: want, api: want });
    if (!c.rejects || zod.ok) return;
    const zodField = c.rejects.zodField ?? c.rejects.field;
    expect(
      zod.problems.map((p) => p.field).some((f) => f.startsWith(zodField)),
      `zod names ${zodField}: ${zodSays}`,
    ).toBe(true);
    expect(api.message, 'the API server names the field').toContain(c.rejects.apiField ?? c.rejects.field);
  });
});

it('reports documents both accept that a production mesh should refuse', () => {
  const loose = cases.filter((c) => c.loose);
  for (const c of loose) console.log(`loose (zod and CRD both accept): ${c.name}: ${c.loose}`);
  expect(cases.filter((c) => c.rejects).length).toBeGreaterThanOrEqual(15);
});
