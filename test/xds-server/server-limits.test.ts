// Transport edges: big requests accepted, malformed bytes and bad nodes end only their own
// stream, the authentication hook, plaintext refused off loopback, graceful close.
import { create } from '@bufbuild/protobuf';
import { Metadata, status } from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiscoveryRequestSchema } from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { debugProxies } from '../../xds/server/debug.ts';
import { aggregatedDiscoveryService as ads } from '../../xds/server/service-definitions.ts';
import { startXdsServer } from '../../xds/server/start.ts';
import { envoyNode, sotwJson } from './support/client.ts';
import { eventually, sotwResponse, startHarness, type Harness } from './support/harness.ts';
import { cla, cluster, resourceSet } from './support/resources.ts';
import { World } from './support/world.ts';

const claA = cla('a.shop', '10.0.0.1');

describe('xDS server transport', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('accepts a request of 40,000 names, refuses one over the 4 MiB message limit or the name bounds', async () => {
    h = await startHarness();
    h.world.set(resourceSet({ clusters: [cluster('a.shop')], endpoints: [claA] }));
    const c = h.sotw();
    const names = Array.from({ length: 40_000 }, (_, i) => `missing-${i}.some-namespace.svc.cluster.local`);
    c.request(TypeUrl.Endpoint, ['a.shop', ...names]);
    expect(sotwJson(await c.next(10_000))).toEqual(sotwResponse(TypeUrl.Endpoint, [claA]));

    const big = h.sotw();
    big.request(
      TypeUrl.Endpoint,
      Array.from({ length: 100_000 }, (_, i) => `missing-${i}.some-namespace.svc.cluster.local`),
    );
    expect(await big.status).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    const many = h.sotw();
    many.request(
      TypeUrl.Endpoint,
      Array.from({ length: 60_000 }, (_, i) => `m${i}`),
    );
    expect(await many.status).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: '60000 resource names for one type: at most 50000 allowed' });
    const long = h.delta();
    long.send({ typeUrl: TypeUrl.Endpoint, resourceNamesSubscribe: ['x'.repeat(1025)] });
    expect(await long.status).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: 'resource name of 1025 characters: at most 1024 allowed' });
  });

  it('ends a stream sending malformed bytes with INTERNAL and keeps serving others', async () => {
    h = await startHarness();
    h.world.set(resourceSet({ endpoints: [claA] }));
    const raw = h.client.makeBidiStreamRequest(
      ads.StreamAggregatedResources.path,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    raw.on('data', () => {});
    raw.on('error', () => {});
    const ended = new Promise<{ code: number }>((resolve) => raw.on('status', resolve));
    raw.write(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])); // field 1, absurd length
    expect((await ended).code).toBe(status.INTERNAL);

    const c = h.sotw();
    c.request(TypeUrl.Endpoint, ['a.shop']);
    expect(sotwJson(await c.next())).toEqual(sotwResponse(TypeUrl.Endpoint, [claA]));
  });

  it('rejects a node with invalid metadata, naming the field', async () => {
    h = await startHarness();
    const c = h.sotw(envoyNode('bad', { WEFT_CAPTURE: 'maybe' }));
    c.request(TypeUrl.Cluster);
    expect(await c.status).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'node.metadata.WEFT_CAPTURE: must be "true" or "false"' });
    const noNode = h.client.makeBidiStreamRequest(
      ads.StreamAggregatedResources.path,
      ads.StreamAggregatedResources.requestSerialize,
      ads.StreamAggregatedResources.responseDeserialize,
    );
    noNode.on('error', () => {});
    const ended = new Promise((resolve) => noNode.on('status', resolve));
    noNode.write(create(DiscoveryRequestSchema, { typeUrl: TypeUrl.Cluster }));
    expect(await ended).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('node: missing') });
  });

  it('runs the authentication hook: rejection ends the stream, identity joins the proxy', async () => {
    h = await startHarness({
      authenticate: (call, node) =>
        call.metadata.get('authorization')[0] === 'Bearer good'
          ? { ok: true, identity: `spiffe://cluster.local/ns/shop/sa/${node.id}` }
          : { ok: false, reason: 'token missing or invalid' },
    });
    h.world.set(resourceSet({ clusters: [cluster('a.shop')] }));
    const denied = h.sotw();
    denied.request(TypeUrl.Cluster);
    expect(await denied.status).toMatchObject({ code: status.UNAUTHENTICATED, details: 'token missing or invalid' });

    const md = new Metadata();
    md.set('authorization', 'Bearer good');
    const call = h.client.makeBidiStreamRequest(
      ads.StreamAggregatedResources.path,
      ads.StreamAggregatedResources.requestSerialize,
      ads.StreamAggregatedResources.responseDeserialize,
      md,
    );
    const first = new Promise((resolve) => call.once('data', resolve));
    call.on('error', () => {});
    call.write(create(DiscoveryRequestSchema, { node: envoyNode('web'), typeUrl: TypeUrl.Cluster }));
    await first;
    expect(debugProxies(await h.server.streams.debug())[0]).toMatchObject({ id: 'web', identity: 'spiffe://cluster.local/ns/shop/sa/web' });
    call.cancel();
  });

  it('ends open streams with OK on close', async () => {
    h = await startHarness();
    h.world.set(resourceSet({ clusters: [cluster('a.shop')] }));
    const c = h.sotw();
    c.request(TypeUrl.Cluster);
    await c.next();
    await eventually(() => expect(h.server.streams.connected).toBe(1));
    await h.server.close();
    expect(await c.status).toMatchObject({ code: status.OK });
  });
});

describe('startXdsServer', () => {
  it('refuses plaintext on a non-loopback address', async () => {
    await expect(startXdsServer({ address: '0.0.0.0:0', cache: new World().cache })).rejects.toThrow(/refusing to serve xDS in plaintext on 0\.0\.0\.0:0/);
  });

  it('serves plaintext on a unix socket (local, like loopback)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-xds-'));
    const server = await startXdsServer({ address: `unix:${join(dir, 'xds.sock')}`, cache: new World().cache });
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
});
