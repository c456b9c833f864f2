// Product code (src/, xds/ except the generated protos, webhook/) imports only Node built-ins
// and packages listed under `dependencies`: the image installs with --omit=dev, so a runtime
// import of a devDependency would fail only there. Tools used only by benchmarks and tests
// (node-forge for the CA benchmark) stay devDependencies.
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .filter((f) => !f.startsWith('xds/gen/'));
}

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`), or undefined for relative and built-in ones. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const importRe = /(?:^|\s)(?:import|export)\s[^'";]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)|^import\s+'([^']+)'/gm;

describe('runtime dependencies', () => {
  const files = ['src', 'xds', 'webhook'].flatMap(sources);

  it('product code imports only dependencies (never devDependencies)', () => {
    const offenders: string[] = [];
    for (const file of files) {
      for (const m of readFileSync(join(root, file), 'utf8').matchAll(importRe)) {
        const name = packageOf(m[1] ?? m[2] ?? m[3] ?? '');
        if (name !== undefined && !Object.hasOwn(pkg.dependencies, name)) offenders.push(`${file}: ${name}`);
      }
    }
    expect(files.length).toBeGreaterThan(50);
    expect(offenders).toEqual([]);
  });

  it('keeps the benchmark-only and test-only libraries out of dependencies', () => {
    for (const name of ['node-forge', '@types/node-forge', 'vitest']) expect(Object.hasOwn(pkg.dependencies, name), name).toBe(false);
    expect(Object.hasOwn(pkg.devDependencies, 'node-forge')).toBe(true);
    for (const name of ['jose', 'fast-json-patch', 'zod']) expect(Object.hasOwn(pkg.dependencies, name), name).toBe(true);
  });
});
