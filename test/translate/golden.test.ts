// Golden files: every scenario under golden/ is translated and compared, resource type by
// resource type, with its *.golden.yaml. `UPDATE_GOLDEN=1 npx vitest run test/translate`
// rewrites them; review the diff like code.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkConsistency, translate } from '../../xds/translate/index.ts';
import { GOLDEN_TYPES, loadScenario, renderSet } from './support.ts';

const root = fileURLToPath(new URL('./golden', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';
const scenarios = readdirSync(root)
  .filter((d) => statSync(join(root, d)).isDirectory())
  .sort();

describe('golden translation', () => {
  it('has the scenarios the issue asks for', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(12);
  });

  for (const name of scenarios) {
    it(name, () => {
      const dir = join(root, name);
      const { model, proxy } = loadScenario(dir);
      const set = translate(model, proxy);
      expect(checkConsistency(set)).toEqual([]);
      const rendered = renderSet(set);
      for (const type of GOLDEN_TYPES) {
        const file = join(dir, `${type}.golden.yaml`);
        if (update) writeFileSync(file, rendered[type]);
        expect(existsSync(file), `${file} missing: run with UPDATE_GOLDEN=1`).toBe(true);
        expect(rendered[type], `${name}/${type}.golden.yaml`).toBe(readFileSync(file, 'utf8'));
      }
    });
  }
});
