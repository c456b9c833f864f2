// Lint: typescript-eslint's recommended rules plus the few habits we rely on, and the import
// rule of docs/architecture.md: a folder imports only the folders below it.
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';

const root = dirname(fileURLToPath(import.meta.url));

const base = ['src/base'];
const ground = [...base, 'src/api', 'src/model'];
/**
 * Which folder may import which, lowest first (besides itself and its own subfolders). Code
 * outside src/, xds/ and webhook/ (test, e2e, bench, scripts, examples) may import anything.
 * Only src/runtime/ composes the xDS server, the secrets generator and the webhook; only xds/
 * imports the generated protos (xds/gen).
 */
export const LAYERS = {
  'src/base': [],
  'src/api': base,
  'src/model': ground,
  'src/k8s': [...base, 'src/api'],
  'src/ca': base,
  'src/identity': [...ground, 'src/k8s', 'src/ca'],
  'src/sources': [...ground, 'src/k8s'],
  'src/analyze': ground,
  'xds/resources': [...ground, 'xds/gen'],
  'xds/translate': [...ground, 'src/ca', 'xds/resources', 'xds/gen'],
  'xds/snapshot': [...ground, 'xds/resources', 'xds/translate', 'xds/gen'],
  'xds/protocol': [...base, 'xds/resources', 'xds/snapshot', 'xds/gen'],
  'xds/server': [...ground, 'src/ca', 'src/identity', 'xds/resources', 'xds/translate', 'xds/snapshot', 'xds/protocol', 'xds/gen'],
  'xds/secrets': [...ground, 'src/ca', 'xds/resources', 'xds/snapshot', 'xds/gen'],
  'xds/bootstrap': [...ground, 'xds/resources', 'xds/translate', 'xds/gen'],
  webhook: [...ground, 'src/ca', 'src/k8s', 'src/identity', 'xds/resources', 'xds/bootstrap'],
  'src/runtime': [
    ...ground,
    ...['src/k8s', 'src/ca', 'src/identity', 'src/sources', 'src/analyze', 'webhook'],
    ...['xds/resources', 'xds/translate', 'xds/snapshot', 'xds/protocol', 'xds/server', 'xds/secrets', 'xds/bootstrap'],
  ],
};
const TARGETS = [...Object.keys(LAYERS), 'xds/gen', 'test', 'e2e', 'bench', 'scripts', 'examples'];

function dirsUnder(dir) {
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return [dir, ...entries.filter((e) => e.isDirectory()).flatMap((e) => dirsUnder(`${dir}/${e.name}`))];
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One override per directory, so each forbidden folder is one exact relative prefix. */
function importBoundaries() {
  return Object.entries(LAYERS).flatMap(([layer, allowed]) => {
    const forbidden = TARGETS.filter((t) => t !== layer && !allowed.includes(t));
    return dirsUnder(layer).map((dir) => ({
      files: [`${dir}/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: forbidden.map((t) => {
              const rel = relative(dir, t);
              return {
                regex: `^(?:\\./)?${escape(rel)}(?:/|$)`,
                message: `${layer}/ may not import ${t}/ (the import rule in docs/architecture.md; allowed: ${allowed.filter((a) => a !== layer).join(', ') || 'nothing'}).`,
              };
            }),
          },
        ],
      },
    }));
  });
}

export default tseslint.config(
  { ignores: ['node_modules/', 'xds/gen/', 'coverage/', '**/*.js', '!eslint.config.js'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error'] }],
      eqeqeq: ['error', 'always'],
    },
  },
  { files: ['scripts/**', 'bench/**', 'e2e/**', 'test/**', 'src/runtime/cli/**'], rules: { 'no-console': 'off' } },
  ...importBoundaries(),
);
