// Finding 8 of issue 13: cached proxy groups outlived their proxies until the next config
// change — 50 connects with large labels left 136 MiB. A proxy group is keyed by what the
// proxy says about itself (labels among it), so each such connect made a group holding its
// labels and its snapshot. Now a group without watchers is dropped after the idle TTL by a
// timer, whatever the model does, and at most `maxIdleGroups` idle ones are kept meanwhile.
// Before: 50 of 50 groups (and their labels) still cached after the TTL.
import { describe, expect, it } from 'vitest';
import { SnapshotCache } from '../../xds/snapshot/cache.ts';
import type { ProxyInfo } from '../../xds/resources/proxy.ts';
import { cluster, resourceSet } from '../xds-server/support/resources.ts';
import { meshModel } from '../xds-server/support/world.ts';

/** A proxy whose labels weigh about 60 KB (under the 64 KiB node bound), distinct per `i`. */
function bigLabelled(i: number): ProxyInfo {
  const labels: Record<string, string> = { app: `web-${i}` };
  for (let k = 0; k < 60; k++) labels[`l${k}`] = `${i}-${'x'.repeat(1000)}`;
  return { id: `vm-${i}`, kind: 'sidecar', namespace: 'shop', labels, capture: false };
}

describe('attack: proxy groups outliving their proxies', () => {
  it('drops groups idle for the TTL without a model change, and caps the idle ones meanwhile', async () => {
    const cache = new SnapshotCache({
      generate: () => resourceSet({ clusters: [cluster('a.shop')] }),
      model: meshModel('m1'),
      idleGroupTtlMs: 300,
      maxIdleGroups: 20,
    });
    const watches = Array.from({ length: 50 }, (_, i) => cache.watch(bigLabelled(i), () => {}));
    for (const w of watches) w.snapshot();
    expect(cache.groups()).toHaveLength(50);
    for (const w of watches) w.cancel();
    const afterLeave = cache.groups().length;
    await new Promise((r) => setTimeout(r, 600));
    const afterTtl = cache.groups().length;
    console.log(`[idle groups] 50 large-label proxies left: ${afterLeave} groups at once (cap 20), ${afterTtl} after the 300 ms TTL`);
    expect(afterLeave).toBe(20);
    expect(afterTtl).toBe(0);
  });

  it('keeps a group someone still watches, and its snapshot for a reconnect within the TTL', async () => {
    const cache = new SnapshotCache({ generate: () => resourceSet({ clusters: [cluster('a.shop')] }), model: meshModel('m1'), idleGroupTtlMs: 300 });
    const kept = cache.watch(bigLabelled(1), () => {});
    const left = cache.watch(bigLabelled(2), () => {});
    left.cancel();
    await new Promise((r) => setTimeout(r, 100));
    expect(cache.groups()).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 500));
    expect(cache.groups().map((g) => g.watchers)).toEqual([1]);
    kept.cancel();
  });
});
