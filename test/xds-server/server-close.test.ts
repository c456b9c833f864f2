// Closing the server ends every open stream, including those not identified yet (no first
// request, or still in the authentication hook), so shutdown does not wait out its grace.
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { eventually, startHarness, type Harness } from './support/harness.ts';
import { cluster, resourceSet } from './support/resources.ts';

describe('xDS server close', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('ends a stream still in the authentication hook, which then serves nothing', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let authCalls = 0;
    h = await startHarness({
      authenticate: async () => {
        authCalls++;
        await gate;
        return { ok: true };
      },
    });
    h.world.set(resourceSet({ clusters: [cluster('a.shop')] }));
    const c = h.sotw();
    c.request(TypeUrl.Cluster);
    await eventually(() => expect(authCalls).toBe(1));

    const started = Date.now();
    const closing = h.server.close();
    release();
    await closing;
    expect(Date.now() - started).toBeLessThan(2000); // not the 5 s grace, then forced
    expect(await c.status).toMatchObject({ code: status.OK });
    expect(h.server.streams.connected).toBe(0);
  });

  it('ends a stream that has not sent its first request', async () => {
    h = await startHarness();
    const c = h.sotw();
    await new Promise((r) => setTimeout(r, 200)); // the call is open on the server
    const started = Date.now();
    await h.server.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await c.status).toMatchObject({ code: status.OK });
  });
});
