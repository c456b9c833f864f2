// examples/backend-policy/demo.ts runs as documented: every user sticks to one zone-a backend,
// then, with zone-a unready, to one zone-b backend.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { envoyBinary } from '../support/envoy-binary.ts';

const demo = fileURLToPath(new URL('../../examples/backend-policy/demo.ts', import.meta.url));

it('examples/backend-policy/demo.ts: sticky users in zone-a, then failover to zone-b', { timeout: 120_000 }, () => {
  const r = spawnSync(process.execPath, [demo], { encoding: 'utf8', timeout: 110_000, env: { ...process.env, WEFT_ENVOY: envoyBinary() } });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.split('\n').filter((l) => l.includes('users on exactly one backend'));
  // Which of a zone's two backends a user lands on depends on the ports the ring hashes.
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^ {2}8\/8 users on exactly one backend; backends used: (a1|a2|a1, a2)$/);
  expect(lines[1]).toMatch(/^ {2}8\/8 users on exactly one backend; backends used: (b1|b2|b1, b2)$/);
});
