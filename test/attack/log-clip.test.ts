// Finding (Low) of issue 13: a 1 MiB node id logged 2 MiB per connection. The node bound
// (--xds-max-node-bytes, 64 KiB) now refuses such a node, but a 60 KB id under it was still
// written whole on every line about its stream. Log lines now carry it clipped to 256
// characters with its length. Here 10 streams with 60,000-character ids connect to
// `weft serve` and leave; no log line may exceed 2 KB. Before: each line was over 60 KB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { startWeftServe, type WeftServe } from '../support/weft-serve.ts';
import { envoyNode, newGrpcClient, SotwClient } from '../xds-server/support/client.ts';
import { meshDir } from './support/mesh-dir.ts';

describe('attack: huge node ids in the logs', () => {
  let weft: WeftServe;
  let dir: { dir: string; remove(): Promise<void> };
  beforeAll(async () => {
    dir = await meshDir({ namespaces: 1, services: 2, endpoints: 1 });
    weft = await startWeftServe({ configDir: dir.dir });
  });
  afterAll(async () => {
    await weft?.stop();
    await dir?.remove();
  });

  it('clips a 60,000-character node id in every log line', async () => {
    const port = Number(weft.xdsAddress.split(':')[1]);
    for (let i = 0; i < 10; i++) {
      const c = new SotwClient(newGrpcClient(port), envoyNode(`${i}-${'n'.repeat(60_000)}`));
      c.request(TypeUrl.Cluster);
      await c.next();
      c.close();
    }
    await new Promise((r) => setTimeout(r, 300));
    const lines = weft
      .output()
      .split('\n')
      .filter((l) => l.includes('nnnnnnnn'));
    const longest = Math.max(0, ...lines.map((l) => l.length));
    console.log(`[log clip] ${lines.length} lines name the proxies; longest ${longest} characters`);
    expect(lines.length).toBeGreaterThan(0);
    expect(longest).toBeLessThan(2048);
    expect(lines.some((l) => l.includes('…(60002 chars)'))).toBe(true);
  });
});
