// Weft run as its image runs it (images/weft/image.json), so that the benchmarks' server has
// the deployed process's memory (docs/scale.md "Idle memory"): the entrypoint's node flags,
// with /app/ this checkout, and the stripped modules the image build writes (bin/prestrip.js)
// where the entrypoint's hook looks for them (.stripped/).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The image entrypoint's arguments between the node binary and the script, /app/ mapped to this checkout. */
export function imageNodeFlags(): string {
  const def = JSON.parse(readFileSync(`${root}images/weft/image.json`, 'utf8')) as { entrypoint: string[] };
  return def.entrypoint
    .slice(1, -1)
    .map((a) => a.replaceAll('/app/', root))
    .join(' ');
}

/** The image build's prestrip step over this checkout, plus bench/ (the server process's own modules). */
export function prestripCheckout(): void {
  const dirs = ['src', 'xds', 'webhook', 'bench'].map((d) => `${root}${d}`);
  execFileSync(process.execPath, [`${root}bin/prestrip.js`, `${root}.stripped`, ...dirs], { stdio: ['ignore', 'ignore', 'inherit'] });
}
