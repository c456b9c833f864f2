// Golden files: test/webhook/golden/<scenario>/pod.yaml → <shape>.patch.golden.json, the
// RFC 6902 patch /inject returns for each sidecar shape (native: the proxy as an init
// container with restartPolicy Always; container: the plain container for API servers
// without native sidecars). A scenario with skip.golden.json instead is a Pod that must not be
// injected: the outcome (reason, message, a response without a patch). A scenario's optional
// values.json overrides injection values (e.g. captureMode cni). Refresh with
// UPDATE_GOLDEN=1 and review the diff like code.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fjp from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { handleInject } from '../../webhook/admission.ts';
import type { JsonPatchOp } from '../../webhook/json-patch.ts';
import { goldenDir, podRequest, testContext } from './fixtures.ts';

const dirs = readdirSync(goldenDir)
  .filter((d) => statSync(join(goldenDir, d)).isDirectory())
  .sort();
const isSkip = (d: string) => existsSync(join(goldenDir, d, 'skip.golden.json'));
const scenarios = dirs.filter((d) => !isSkip(d));
const skips = dirs.filter(isSkip);
const readPod = (d: string) => parseYaml(readFileSync(join(goldenDir, d, 'pod.yaml'), 'utf8')) as Record<string, unknown>;
const cases = scenarios.flatMap((scenario) => (['native', 'container'] as const).map((shape) => [scenario, shape] as const));

function decodePatch(b64: string | undefined): JsonPatchOp[] {
  return JSON.parse(Buffer.from(b64 ?? '', 'base64').toString('utf8')) as JsonPatchOp[];
}

describe('injection golden patches', () => {
  it('has at least 8 scenarios', () => expect(scenarios.length).toBeGreaterThanOrEqual(8));

  it.each(cases)('%s (%s)', (scenario, shape) => {
    const pod = parseYaml(readFileSync(join(goldenDir, scenario, 'pod.yaml'), 'utf8')) as Record<string, unknown>;
    const valuesPath = join(goldenDir, scenario, 'values.json');
    const values = existsSync(valuesPath) ? (JSON.parse(readFileSync(valuesPath, 'utf8')) as Record<string, unknown>) : {};
    const ctx = testContext({ ...values, sidecarMode: shape });
    const out = handleInject(podRequest(pod), ctx);
    expect(out.result).toBe('injected');
    const patch = decodePatch(out.response.patch);
    const goldenPath = join(goldenDir, scenario, `${shape}.patch.golden.json`);
    const text = `${JSON.stringify(patch, null, 2)}\n`;
    if (process.env.UPDATE_GOLDEN || !existsSync(goldenPath)) writeFileSync(goldenPath, text);
    expect(text).toBe(readFileSync(goldenPath, 'utf8'));

    // The patch applies to the pod as sent, and the result is stable under re-injection.
    const patched = fjp.applyPatch(structuredClone(pod), patch, true, false).newDocument;
    const again = handleInject(podRequest(patched), ctx);
    expect(again).toMatchObject({ result: 'skipped', reason: 'already-injected' });
    expect(again.response.patch).toBeUndefined();
  });
});

describe('injection golden skips', () => {
  it('has the opt-outs', () => expect(skips).toEqual(expect.arrayContaining(['opted-out-annotation', 'opted-out-label'])));

  it.each(skips)('%s', (scenario) => {
    const out = handleInject(podRequest(readPod(scenario)), testContext());
    const goldenPath = join(goldenDir, scenario, 'skip.golden.json');
    const text = `${JSON.stringify(out, null, 2)}\n`;
    if (process.env.UPDATE_GOLDEN) writeFileSync(goldenPath, text);
    expect(text).toBe(readFileSync(goldenPath, 'utf8'));
    expect(out).toMatchObject({ result: 'skipped', response: { allowed: true } });
    expect(out.response.patch).toBeUndefined();
  });
});
