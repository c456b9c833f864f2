// The import rule of docs/architecture.md bites: ESLint, with the project's own config, reports
// a wrong-way import placed in a folder (value and type-only imports, re-exports) and passes
// the right-way ones. The files are linted in memory under paths inside the tree; none is written.
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${filePath}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const wrongWay: readonly (readonly [file: string, code: string, says: string])[] = [
  ['src/model/fixture.ts', "import { startXdsServer } from '../../xds/server/start.ts';\nvoid startXdsServer;\n", 'src/model/ may not import xds/server/'],
  [
    'src/identity/fixture.ts',
    "import type { ControlPlane } from '../runtime/control-plane.ts';\nexport type X = ControlPlane;\n",
    'src/identity/ may not import src/runtime/',
  ],
  ['src/sources/fixture.ts', "export { runController } from '../runtime/controller/run.ts';\n", 'src/sources/ may not import src/runtime/'],
  ['src/base/fixture.ts', "import { buildModel } from '../model/build.ts';\nvoid buildModel;\n", 'src/base/ may not import src/model/'],
  ['xds/translate/fixture.ts', "import { startXdsServer } from '../server/start.ts';\nvoid startXdsServer;\n", 'xds/translate/ may not import xds/server/'],
  [
    'xds/server/fixture.ts',
    "import { workloadSecrets } from '../secrets/workload-secrets.ts';\nvoid workloadSecrets;\n",
    'xds/server/ may not import xds/secrets/',
  ],
  ['webhook/fixture.ts', "import { startXdsServer } from '../xds/server/start.ts';\nvoid startXdsServer;\n", 'webhook/ may not import xds/server/'],
  [
    'src/identity/fixture.ts',
    "import type { Node } from '../../xds/gen/envoy/config/core/v3/base_pb.js';\nexport type N = Node;\n",
    'src/identity/ may not import xds/gen/',
  ],
  [
    'src/runtime/cli/fixture.ts',
    "import type { Node } from '../../../xds/gen/envoy/config/core/v3/base_pb.js';\nexport type N = Node;\n",
    'src/runtime/ may not import xds/gen/',
  ],
  ['xds/snapshot/fixture.ts', "import { x } from '../../test/support/x.ts';\nvoid x;\n", 'xds/snapshot/ may not import test/'],
];

const rightWay: readonly (readonly [file: string, code: string])[] = [
  ['src/runtime/fixture.ts', "import { startXdsServer } from '../../xds/server/start.ts';\nvoid startXdsServer;\n"],
  [
    'src/runtime/controller/fixture.ts',
    "import { injectPod } from '../../../webhook/inject.ts';\nimport { log } from '../../base/log.ts';\nvoid injectPod;\nvoid log;\n",
  ],
  [
    'xds/translate/fixture.ts',
    "import type { MeshModel } from '../../src/model/types.ts';\nimport { typeUrls } from '../resources/type-urls.ts';\nexport type M = MeshModel;\nvoid typeUrls;\n",
  ],
  ['xds/server/fixture.ts', "import type { Authenticate } from '../../src/identity/auth-hook.ts';\nexport type A = Authenticate;\n"],
  ['webhook/fixture.ts', "import { renderSidecarBootstrap } from '../xds/bootstrap/sidecar.ts';\nvoid renderSidecarBootstrap;\n"],
  [
    'test/fixture.ts',
    "import type { Node } from '../xds/gen/envoy/config/core/v3/base_pb.js';\nimport { runController } from '../src/runtime/controller/run.ts';\nexport type N = Node;\nvoid runController;\n",
  ],
];

describe('import boundaries (eslint)', () => {
  for (const [file, code, says] of wrongWay) {
    it(`reports a wrong-way import in ${file}: ${says}`, async () => {
      const errors = await boundaryErrors(file, code);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(says);
    });
  }
  for (const [file, code] of rightWay) {
    it(`passes a right-way import in ${file}`, async () => {
      expect(await boundaryErrors(file, code)).toEqual([]);
    });
  }
});
