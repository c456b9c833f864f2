// SDS as its own service (Envoy's sds_config with a gRPC cluster): StreamSecrets answers
// named secrets (type_url may be empty there), FetchSecrets answers once, and the service
// refuses other types.
import { create } from '@bufbuild/protobuf';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiscoveryRequestSchema, type DiscoveryResponse } from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { secretDiscoveryService as sds } from '../../xds/server/service-definitions.ts';
import { envoyNode, sotwJson } from './support/client.ts';
import { sotwResponse, startHarness, type Harness } from './support/harness.ts';
import { cluster, resourceSet, secret } from './support/resources.ts';

const workload = secret('default');
const root = secret('ROOTCA');

describe('SecretDiscoveryService', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    h.world.set(resourceSet({ clusters: [cluster('a.shop')], secrets: [root, workload] }));
  });
  afterEach(() => h.close());

  it('streams the named secrets and ignores other types', async () => {
    const call = h.client.makeBidiStreamRequest(sds.StreamSecrets.path, sds.StreamSecrets.requestSerialize, sds.StreamSecrets.responseDeserialize);
    const got: DiscoveryResponse[] = [];
    call.on('data', (r: DiscoveryResponse) => got.push(r));
    call.on('error', () => {});
    call.write(create(DiscoveryRequestSchema, { node: envoyNode('web'), typeUrl: TypeUrl.Cluster }));
    call.write(create(DiscoveryRequestSchema, { resourceNames: ['default'] }));
    await new Promise((r) => setTimeout(r, 300));
    expect(got.map(sotwJson)).toEqual([sotwResponse(TypeUrl.Secret, [workload])]);
    call.cancel();
  });

  it('answers FetchSecrets with the named secrets', async () => {
    const res = await new Promise<DiscoveryResponse>((resolve, reject) =>
      h.client.makeUnaryRequest(
        sds.FetchSecrets.path,
        sds.FetchSecrets.requestSerialize,
        sds.FetchSecrets.responseDeserialize,
        create(DiscoveryRequestSchema, { node: envoyNode('web'), typeUrl: TypeUrl.Secret, resourceNames: ['ROOTCA', 'default'] }),
        (err, value) => (err ? reject(err) : resolve(value!)),
      ),
    );
    expect(sotwJson(res)).toEqual({ ...(sotwResponse(TypeUrl.Secret, [root, workload]) as object), nonce: undefined });
  });
});
