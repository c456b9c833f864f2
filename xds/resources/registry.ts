// A type registry over every generated Envoy file, for Any packing and JSON/YAML
// rendering (golden files, bootstrap, debug output).
import { createRegistry, type DescFile, type Registry } from '@bufbuild/protobuf';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const genDir = fileURLToPath(new URL('../gen', import.meta.url));

function pbModules(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return pbModules(p);
    return name.endsWith('_pb.js') ? [p] : [];
  });
}

async function loadFiles(): Promise<DescFile[]> {
  const files: DescFile[] = [];
  for (const path of pbModules(genDir).sort()) {
    const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    for (const [key, value] of Object.entries(mod)) {
      if (key.startsWith('file_')) files.push(value as DescFile);
    }
  }
  return files;
}

export const envoyRegistry: Registry = createRegistry(...(await loadFiles()));
