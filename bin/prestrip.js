#!/usr/bin/env node
// `node bin/prestrip.js OUT DIR...`: strips the types of every TypeScript module under the
// DIRs once, ahead of time, into OUT/<sha256 of the .ts source>.js, for bin/stripped-hook.js.
// Why: stripping at run time makes Node load its TypeScript stripper (amaro: swc compiled to
// WebAssembly) on the first .ts module, and its bundle, compiled code and linear memory stay
// in the process for good: about 30 MiB of an idle control plane's RSS (docs/scale.md "Idle
// memory"). The weft image runs this at build time (images/weft/image.json); development
// still runs the .ts files directly. Plain JavaScript so that it loads without the stripper.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// Strips as Node does (positions kept, so stack traces match the .ts file), without its "experimental" note.
import { stripTypes as strip } from './launch.js';

/** The cache key of a module: the SHA-256 of its TypeScript source (bin/stripped-hook.js computes the same). */
export const strippedKey = (source) => createHash('sha256').update(source).digest('hex');

/** Writes OUT/<key>.js for every .ts file (not .d.ts) under `dirs`, node_modules left out; returns how many. */
export function prestrip(out, dirs) {
  mkdirSync(out, { recursive: true });
  let n = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && !e.name.startsWith('.')) walk(path);
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        const source = readFileSync(path);
        const target = join(out, `${strippedKey(source)}.js`);
        // Written aside and renamed: a process starting meanwhile reads a whole file or none.
        writeFileSync(`${target}.${process.pid}`, strip(source.toString('utf8')));
        renameSync(`${target}.${process.pid}`, target);
        n++;
      }
    }
  };
  for (const d of dirs) walk(d);
  return n;
}

if (import.meta.main) {
  const [out, ...dirs] = process.argv.slice(2);
  if (out === undefined || dirs.length === 0) {
    process.stderr.write('usage: prestrip.js OUT DIR...   (stripped modules for bin/stripped-hook.js)\n');
    process.exit(2);
  }
  process.stdout.write(`prestrip: ${prestrip(out, dirs)} modules into ${out}\n`);
}
