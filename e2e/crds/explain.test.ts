// `kubectl explain` on the real API server shows the CRDs' field descriptions (the published
// OpenAPI, not just the files; test/crds/descriptions.test.ts checks every field has one).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { kubectl, repoRoot, waitFor } from '../support/kube.ts';

const crdDir = join(repoRoot, 'crds');

beforeAll(async () => {
  await kubectl(['apply', '--server-side', '--field-manager=weft-e2e', '--force-conflicts', '-f', crdDir]);
  for (const f of readdirSync(crdDir).filter((n) => n.endsWith('.yaml')))
    await waitFor('condition=Established', `crd/${f.replace(/\.yaml$/, '')}.mesh.weft.dev`);
}, 900_000); // may start the cluster (e2e/cluster/up.sh)

it.each([
  ['trafficsplit.spec.backends.weight', 'weights need not sum to 100'],
  ['retrypolicy.spec.outlierDetection.baseEjectionTime', 'How long an endpoint stays ejected'],
  ['peerauth.spec.portLevelMtls', 'keyed by port number'],
  ['ts.status.conditions.reason', 'CamelCase'],
  ['authz.spec.allow.from.serviceAccounts', '<namespace>/<name>'],
  ['authorizationpolicy.spec.dryRun', 'shadow_denied'],
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
