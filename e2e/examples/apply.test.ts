// The examples meant for a cluster apply to a real API server as they are
// (`kubectl apply --dry-run=server`, strict field validation, the CRDs installed), and the
// standalone-only EndpointSlices beside them are refused, which is why they live apart.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubectl, repoRoot, tempNamespace, waitFor } from '../support/kube.ts';

/** Example directories a user applies to a cluster with `kubectl apply -f`. */
const clusterExamples = ['examples/backend-policy', 'examples/mesh', 'examples/proxyless'];
/** Their standalone-only parts: loopback endpoints, for `weft serve` and the demo. */
const standaloneOnly = ['examples/backend-policy/standalone', 'examples/mesh/standalone', 'examples/proxyless/standalone'];

let namespace = '';

beforeAll(async () => {
  const crds = join(repoRoot, 'crds');
  await kubectl(['apply', '--server-side', '--field-manager=weft-e2e', '--force-conflicts', '-f', crds]);
  for (const f of readdirSync(crds).filter((n) => n.endsWith('.yaml'))) await waitFor('condition=Established', `crd/${f.replace(/\.yaml$/, '')}.mesh.weft.dev`);
  namespace = await tempNamespace('examples');
}, 900_000); // may start the cluster (e2e/cluster/up.sh)

/** What `kubectl apply -f DIR` reads (top level only), moved from shop into this test's namespace. */
function documents(dir: string): string {
  const files = readdirSync(join(repoRoot, dir))
    .filter((n) => /\.(ya?ml|json)$/.test(n))
    .sort();
  expect(files.length, `${dir} has manifests`).toBeGreaterThan(0);
  return files.map((f) => readFileSync(join(repoRoot, dir, f), 'utf8').replace(/^(\s*namespace:\s*)shop\s*$/gm, `$1${namespace}`)).join('\n---\n');
}

const dryRun = (dir: string) => kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: documents(dir), allowFailure: true });

describe('kubectl apply --dry-run=server', () => {
  it('examples/limits-and-faults applies as is', async () => {
    const r = await dryRun('examples/limits-and-faults');
    expect(r.stderr.trim()).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ratelimitpolicy\.mesh\.weft\.dev\/checkout created \(server dry run\)/);
    expect(r.stdout).toMatch(/faultpolicy\.mesh\.weft\.dev\/checkout-chaos created \(server dry run\)/);
  });

  it.each(clusterExamples)('%s applies as is', async (dir) => {
    const r = await dryRun(dir);
    expect(r.stderr.trim()).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/(trafficsplit|backendpolicy)\.mesh\.weft\.dev\/\S+ created \(server dry run\)/);
  });

  it.each(standaloneOnly)('%s is refused: loopback endpoints are for weft serve only', async (dir) => {
    const r = await dryRun(dir);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('loopback');
  });
});
