// `node --import=<this file> …`: TypeScript modules whose stripped JavaScript bin/prestrip.js
// wrote ahead of time (to ../.stripped, or WEFT_STRIPPED_DIR) load from there, so Node never
// loads its TypeScript stripper: about 30 MiB less RSS for good (docs/scale.md "Idle memory").
// Keyed by the SHA-256 of the .ts source: a file changed since falls through to Node's own
// stripping, never to stale code. Without the directory this registers nothing. Plain
// JavaScript so that it loads without the stripper; worker threads inherit the --import.
import module from 'node:module';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const dir = process.env.WEFT_STRIPPED_DIR ? pathToFileURL(`${process.env.WEFT_STRIPPED_DIR}/`) : new URL('../.stripped/', import.meta.url);

if (existsSync(dir)) {
  module.registerHooks({
    load(url, context, nextLoad) {
      if (!url.startsWith('file:') || !url.endsWith('.ts') || url.endsWith('.d.ts')) return nextLoad(url, context);
      const key = createHash('sha256')
        .update(readFileSync(new URL(url)))
        .digest('hex');
      let source;
      try {
        source = readFileSync(new URL(`${key}.js`, dir), 'utf8');
      } catch {
        return nextLoad(url, context);
      }
      return { format: 'module', source, shortCircuit: true };
    },
  });
}
