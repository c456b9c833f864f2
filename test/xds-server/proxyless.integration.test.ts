// A real proxyless client (@grpc/grpc-js-xds) connects with the node from its bootstrap
// file and gRPC's user agent: the server must see it as a proxyless proxy and answer its
// named LDS request.
import { credentials, Client } from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyGroupKey } from '../../xds/resources/proxy.ts';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { debugProxies } from '../../xds/server/debug.ts';
import { eventually, startHarness, type Harness } from './support/harness.ts';
import { listener, resourceSet } from './support/resources.ts';

describe('proxyless gRPC client', () => {
  let h: Harness;
  let client: Client | undefined;
  beforeAll(async () => {
    h = await startHarness();
    h.world.set(resourceSet({ listeners: [listener('outbound-80', 80, 'route-80')] }));
    // grpc-js-xds reads its bootstrap once per process, lazily: set it before the first channel.
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
      xds_servers: [{ server_uri: `127.0.0.1:${h.server.port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: 'checkout-grpc-1', locality: {}, metadata: { WEFT_NAMESPACE: 'shop', WEFT_LABELS: { app: 'checkout' } } },
    });
    grpcXds.register();
  });
  afterAll(async () => {
    client?.close();
    await h.close();
  });

  it('is identified as proxyless from its real node and user agent', async () => {
    client = new Client('xds:///web.shop:8080', credentials.createInsecure());
    client.waitForReady(Date.now() + 5000, () => {}); // starts name resolution, hence the ADS stream
    const proxy = await eventually(async () => {
      const [p] = debugProxies(await h.server.streams.debug());
      expect(p?.types[TypeUrl.Listener]?.versionSent).toBeDefined();
      return p!;
    }, 5000);
    expect(proxy).toMatchObject({
      id: 'checkout-grpc-1',
      kind: 'proxyless',
      namespace: 'shop',
      protocol: 'sotw',
      group: proxyGroupKey({ id: 'checkout-grpc-1', kind: 'proxyless', namespace: 'shop', labels: { app: 'checkout' }, capture: false }),
      // A named LDS subscription: the answer is the (full, here empty) state for that name.
      types: { [TypeUrl.Listener]: { subscribed: ['web.shop:8080'], versionSent: expect.any(String) } },
    });
  });
});
