// A private, writable copy of examples/mesh for one test (with its standalone/ EndpointSlices
// flattened into the same directory, so one --config-dir serves it): backend ports rewritten to the
// ones this test's backends got, and helpers to edit files while `weft serve` watches them.
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const exampleMeshDir = fileURLToPath(new URL('../../examples/mesh', import.meta.url));

/** The ports examples/mesh gives the demo backends (v1, v2). */
export const DEMO_PORTS = { v1: 18081, v2: 18082 } as const;

export interface MeshFixture {
  readonly dir: string;
  read(file: string): Promise<string>;
  write(file: string, text: string): Promise<void>;
  remove(file: string): Promise<void>;
  cleanup(): Promise<void>;
}

const dirs = new Set<string>();
afterAll(async () => {
  if (process.env.WEFT_KEEP_FIXTURES) return;
  await Promise.all([...dirs].map((d) => rm(d, { recursive: true, force: true })));
});

/** Copies examples/mesh; `ports` maps a demo port to the port to use instead. */
export async function copyExampleMesh(ports: Record<number, number> = {}): Promise<MeshFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-mesh-'));
  dirs.add(dir);
  await cp(exampleMeshDir, dir, { recursive: true });
  await cp(join(exampleMeshDir, 'standalone'), dir, { recursive: true });
  await rm(join(dir, 'standalone'), { recursive: true, force: true });
  for (const name of await readdir(dir)) {
    if (!/\.ya?ml$/.test(name)) continue;
    const path = join(dir, name);
    let text = await readFile(path, 'utf8');
    for (const [from, to] of Object.entries(ports)) text = text.replace(new RegExp(`\\b${from}\\b`, 'g'), String(to));
    await writeFile(path, text);
  }
  return {
    dir,
    read: (file) => readFile(join(dir, file), 'utf8'),
    write: (file, text) => writeFile(join(dir, file), text),
    remove: (file) => rm(join(dir, file), { force: true }),
    cleanup: async () => {
      dirs.delete(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
