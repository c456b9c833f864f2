// SotW pushes on model changes: make-before-break order, EDS resent for changed clusters,
// unchanged types never resent, bursts coalesced by the debouncer.
import { afterEach, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { sotwJson, type SotwClient } from './support/client.ts';
import { sotwResponse, startHarness, type Harness } from './support/harness.ts';
import { cla, cluster, listener, resourceSet, route, versionOf } from './support/resources.ts';

const a = cluster('a.shop');
const b = cluster('b.shop');
const claA = cla('a.shop', '10.0.0.1');
const claB = cla('b.shop', '10.0.0.2');
const l80 = listener('outbound-80', 80, 'route-80');
const l81 = listener('outbound-81', 81, 'route-81');
const r80 = route('route-80', 'a.shop');
const r81 = route('route-81', 'b.shop');
const initial = resourceSet({ clusters: [a, b], endpoints: [claA, claB], listeners: [l80, l81], routes: [r80, r81] });

/** Subscribes like Envoy (CDS, EDS, LDS, RDS) and ACKs everything. */
async function subscribeAll(client: SotwClient): Promise<void> {
  const subs = [
    [TypeUrl.Cluster, []],
    [TypeUrl.Endpoint, ['a.shop', 'b.shop']],
    [TypeUrl.Listener, []],
    [TypeUrl.Route, ['route-80', 'route-81']],
  ] as const;
  for (const [type, names] of subs) {
    client.request(type, [...names]);
    client.ack(await client.next());
  }
}

describe('SotW pushes', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('orders a change touching every type CDS → EDS → LDS → RDS, removals last', async () => {
    h = await startHarness();
    h.world.set(initial);
    const client = h.sotw();
    await subscribeAll(client);

    // b, l81, r81 go away; c, l82, r82 arrive; a's endpoints and route-80 change.
    const c = cluster('c.shop');
    const claA2 = cla('a.shop', '10.0.0.1', '10.0.0.11');
    const claC = cla('c.shop', '10.0.0.3');
    const l82 = listener('outbound-82', 82, 'route-82');
    const r80b = route('route-80', 'a.shop', 'c.shop');
    const r82 = route('route-82', 'c.shop');
    h.world.set(resourceSet({ clusters: [a, c], endpoints: [claA2, claC], listeners: [l80, l82], routes: [r80b, r82] }));

    const got = [];
    for (let i = 0; i < 6; i++) got.push(sotwJson(await client.next()));
    expect(got).toEqual([
      sotwResponse(TypeUrl.Cluster, [a, b, cluster('c.shop')]), // new clusters while b still exists
      sotwResponse(TypeUrl.Endpoint, [claA2]),
      sotwResponse(TypeUrl.Listener, [l80, l81, l82]),
      sotwResponse(TypeUrl.Route, [r80b]),
      sotwResponse(TypeUrl.Listener, [l80, l82]), // removals, references first
      sotwResponse(TypeUrl.Cluster, [a, c]),
    ]);
    await client.silence();
  });

  it('resends the CLA of a changed cluster so Envoy can finish warming it', async () => {
    h = await startHarness();
    h.world.set(initial);
    const client = h.sotw();
    await subscribeAll(client);

    const a2 = cluster('a.shop', { connectTimeoutMs: 5000 });
    h.world.set(resourceSet({ ...initial, clusters: [a2, b] }));
    expect(sotwJson(await client.next())).toEqual(sotwResponse(TypeUrl.Cluster, [a2, b]));
    // Same content and version as before, sent again right after CDS.
    expect(sotwJson(await client.next())).toEqual(sotwResponse(TypeUrl.Endpoint, [claA], versionOf(claA, claB)));
    await client.silence();
  });

  it('does not resend types whose content did not change', async () => {
    h = await startHarness();
    h.world.set(initial);
    const client = h.sotw();
    await subscribeAll(client);

    const claB2 = cla('b.shop', '10.0.0.2', '10.0.0.22');
    h.world.set(resourceSet({ ...initial, endpoints: [claA, claB2] }));
    expect(sotwJson(await client.next())).toEqual(sotwResponse(TypeUrl.Endpoint, [claB2], versionOf(claA, claB2)));
    await client.silence();
    // A new model version with identical resources: nothing at all.
    h.world.set(resourceSet({ ...initial, endpoints: [claA, claB2] }));
    await client.silence();
  });

  it('coalesces a burst of model changes into one push', async () => {
    h = await startHarness({ holdoffMs: 150, maxDelayMs: 2000 });
    h.world.set(initial);
    const client = h.sotw();
    await subscribeAll(client);

    let last = claA;
    for (let i = 1; i <= 5; i++) {
      last = cla('a.shop', `10.0.1.${i}`);
      h.world.set(resourceSet({ ...initial, endpoints: [last, claB] }));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(sotwJson(await client.next())).toEqual(sotwResponse(TypeUrl.Endpoint, [last], versionOf(last, claB)));
    await client.silence(400);
  });

  it('pushes during a steady stream of changes once the max delay is reached', async () => {
    h = await startHarness({ holdoffMs: 200, maxDelayMs: 400 });
    h.world.set(initial);
    const client = h.sotw();
    await subscribeAll(client);

    const started = Date.now();
    const burst = (async () => {
      for (let i = 1; Date.now() - started < 1500; i++) {
        h.world.set(resourceSet({ ...initial, endpoints: [cla('a.shop', `10.0.2.${i}`), claB] }));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const first = await client.next(1500);
    expect(first.typeUrl).toBe(TypeUrl.Endpoint);
    // The holdoff alone would wait until the burst ends (1.5 s); the max delay cuts in first.
    expect(Date.now() - started).toBeLessThan(1200);
    await burst;
  });
});
