// `make cluster-down` leaves the host as it was: a node cluster of its own is brought up
// (with CoreDNS running, so there are Pod cgroups, overlay mounts, a veth and kube-proxy
// rules), stopped with down.sh --purge, and the host's mounts, cgroups, links, nft tables,
// sysctls and runtime directories (e2e/node/host-state.sh) must equal the snapshot taken
// before. One node runs per host: skipped while another cluster's node runs (scripts/test.sh
// runs this file on its own, before the shared node cluster starts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, run } from '../support/kube.ts';
import { cacheDir, nodeSuitesEnabled } from './support.ts';

const lock = join(cacheDir, '.node-host.lock');

async function nodeLockFree(): Promise<boolean> {
  const r = await run('flock', ['-n', lock, 'true'], { allowFailure: true });
  return r.code === 0;
}

const section = (snap: string, name: string): string => snap.split('\n# ').find((s) => s.startsWith(name)) ?? '';
const snapshot = async (): Promise<string> => (await run('bash', [join(repoRoot, 'e2e/node/host-state.sh')])).stdout;

describe.skipIf(!nodeSuitesEnabled)('node cluster-down', () => {
  it('leaves no mounts, cgroups, links, nft tables or runtime dirs behind', async (ctx) => {
    if (!(await nodeLockFree())) ctx.skip();
    const dir = mkdtempSync(join(tmpdir(), 'weft-node-clean-'));
    const env = { WEFT_NODE: '1', WEFT_CLUSTER_DIR: dir };
    const before = await snapshot();
    try {
      const t0 = Date.now();
      await run('bash', [join(repoRoot, 'e2e/cluster/up.sh')], { env, timeoutMs: 1_500_000 });
      console.log(`[node] cluster-up (control plane + node + CoreDNS Ready) in ${Date.now() - t0} ms`);
      const during = await snapshot();
      // The check can see what the node adds: otherwise an equal "after" proves nothing.
      expect(during).toContain('weft0');
      expect(during).toMatch(/table ip kube-proxy/);
      expect(during).toMatch(/weft-node/);
      // The runtime's overlay, tmpfs and netns mounts stay in the node's mount namespace.
      expect(section(during, 'mounts')).toEqual(section(before, 'mounts'));
    } finally {
      const t1 = Date.now();
      await run('bash', [join(repoRoot, 'e2e/cluster/down.sh'), '--purge'], { env, timeoutMs: 300_000, allowFailure: true });
      console.log(`[node] cluster-down --purge in ${Date.now() - t1} ms`);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(await snapshot()).toEqual(before);
  }, 1_800_000);
});
