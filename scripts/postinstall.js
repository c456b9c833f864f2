// npm's postinstall. In a checkout it generates the Envoy API bindings (xds/gen, git-ignored)
// with scripts/gen-protos.ts. In an installed package (npm install -g, npx) there is nothing
// to do: `npm pack` ships xds/gen already generated, and neither gen-protos.ts nor the
// devDependencies it needs (buf) are there. Plain JavaScript, so this runs on any Node.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const gen = fileURLToPath(new URL('./gen-protos.ts', import.meta.url));
if (existsSync(gen)) {
  const r = spawnSync(process.execPath, [gen], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
