// Every golden scenario's resources are loaded by a real Envoy (`--mode validate`), which
// runs its proto validation and builds listeners, filter chains and route tables — the
// checks behind NACKs (duplicate domains or chain matches, bad regexes, missing fields).
// The static form (static-bootstrap.ts) inlines EDS and RDS, so every route is checked,
// and serves the SDS secrets statically (certificates from the real CA), so every TLS
// context is built too.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Secret } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { translate } from '../../xds/translate/index.ts';
import { validateBootstrap } from '../support/envoy.ts';
import { staticBootstrapYaml } from './static-bootstrap.ts';
import { loadScenario } from './support.ts';
import { testCa, workloadSecrets } from './test-secrets.ts';

const root = fileURLToPath(new URL('./golden', import.meta.url));
const scenarios = readdirSync(root)
  .filter((d) => statSync(join(root, d)).isDirectory())
  .sort();

describe('real Envoy accepts every golden scenario', () => {
  let secrets: Secret[];
  beforeAll(async () => {
    secrets = await workloadSecrets(await testCa(), 'shop', 'validate');
  });

  for (const name of scenarios) {
    it(name, async () => {
      const { model, proxy } = loadScenario(join(root, name));
      const { code, output } = await validateBootstrap(staticBootstrapYaml(translate(model, proxy), { secrets }));
      expect(
        output
          .split('\n')
          .filter((l) => /error|critical|reject/i.test(l))
          .join('\n'),
      ).toBe('');
      expect(code).toBe(0);
    });
  }
});
