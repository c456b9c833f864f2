// Zone failover makes CLAs depend on the caller's zone, and only where a BackendPolicy asks
// for it: other Services' CLAs stay the very same message objects for every zone, and a model
// without such a policy ignores the zone entirely (one translation for all zones).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { translate } from '../../xds/translate/index.ts';
import { loadScenario } from './support.ts';

const scenario = (name: string) => loadScenario(fileURLToPath(new URL(`./golden/${name}`, import.meta.url)));
const cla = (set: ReturnType<typeof translate>, svc: string) => set.endpoints.find((c) => c.clusterName.includes(`|${svc}.`));

describe('zone failover and sharing', () => {
  it('a caller in another zone gets other priorities for failover Services, the same objects for the rest', () => {
    const { model, proxy } = scenario('backend-zone-failover');
    const a = translate(model, proxy);
    const b = translate(model, { ...proxy, zone: 'zone-b' });
    const none = translate(model, { ...proxy, zone: undefined });
    const priorities = (set: typeof a) => cla(set, 'reviews')?.endpoints.map((l) => `${l.locality?.zone}:${l.priority}`);
    expect(priorities(a)).toEqual(['zone-a:0', 'zone-b:1', 'zone-c:1']);
    expect(priorities(b)).toEqual(['zone-a:1', 'zone-b:0', 'zone-c:1']);
    expect(priorities(none)).toEqual(['zone-a:0', 'zone-b:0', 'zone-c:0']);
    expect(cla(a, 'details')).toBe(cla(b, 'details'));
    expect(a.clusters.every((c, i) => c === b.clusters[i])).toBe(true);
  });

  it('without a failover policy the zone changes nothing: one ResourceSet for every zone', () => {
    const { model, proxy } = scenario('backend-ring-hash-split');
    expect(translate(model, { ...proxy, zone: 'zone-a' })).toBe(translate(model, { ...proxy, zone: 'zone-b' }));
  });
});
