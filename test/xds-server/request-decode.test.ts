// The ACK short path (xds/server/request-decode.ts) reads exactly what protobuf-es reads, and
// hands anything it does not cover (node, error detail, unknown fields, bad UTF-8, malformed
// bytes) to protobuf-es, whose result or error is then the answer.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { DeltaDiscoveryRequestSchema, DiscoveryRequestSchema } from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { NodeSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { StatusSchema } from '../../xds/gen/google/rpc/status_pb.js';
import { decodeDeltaDiscoveryRequest, decodeDiscoveryRequest, requestDecodes } from '../../xds/server/request-decode.ts';

const EDS = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
const names = Array.from({ length: 50 }, (_, i) => `outbound|8080||svc-${i}.ns-01.svc.cluster.local`);

function wire(init: Parameters<typeof create<typeof DiscoveryRequestSchema>>[1]): Buffer {
  return Buffer.from(toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, init)));
}

function viaShort(buf: Buffer): { value: unknown; short: boolean } {
  const before = requestDecodes.short;
  const value = decodeDiscoveryRequest(buf);
  return { value, short: requestDecodes.short > before };
}

describe('DiscoveryRequest decoding', () => {
  it('reads an ACK on the short path, equal to what protobuf-es reads', () => {
    const buf = wire({ typeUrl: EDS, versionInfo: 'v1', responseNonce: '2a', resourceNames: names });
    const { value, short } = viaShort(buf);
    expect(short).toBe(true);
    expect(value).toEqual(fromBinary(DiscoveryRequestSchema, buf));
  });

  it('reads texts that share a fingerprint as their own (the interned ones are compared, not trusted)', () => {
    // 128 bytes: the fingerprint samples every other byte, so these two collide and differ.
    const a = 'x'.repeat(128);
    const b = `${'x'.repeat(125)}yxx`;
    for (let round = 0; round < 2; round++) {
      for (const nonce of [a, b]) {
        const buf = wire({ typeUrl: EDS, versionInfo: nonce.slice(0, 16), responseNonce: nonce, resourceNames: names });
        const { value, short } = viaShort(buf);
        expect(short).toBe(true);
        expect(value).toEqual(fromBinary(DiscoveryRequestSchema, buf));
      }
    }
  });

  it('shares one frozen names array between requests with the same names', () => {
    const a = decodeDiscoveryRequest(wire({ typeUrl: EDS, versionInfo: 'v1', responseNonce: '1', resourceNames: names }));
    const b = decodeDiscoveryRequest(wire({ typeUrl: EDS, versionInfo: 'v2', responseNonce: '2', resourceNames: names }));
    expect(b.resourceNames).toBe(a.resourceNames);
    expect(Object.isFrozen(a.resourceNames)).toBe(true);
    const c = decodeDiscoveryRequest(wire({ typeUrl: EDS, resourceNames: names.slice(1) }));
    expect(c.resourceNames).toEqual(names.slice(1));
  });

  it('reads empty requests, empty strings and non-ASCII names like protobuf-es', () => {
    for (const init of [{}, { typeUrl: EDS }, { resourceNames: ['', 'ü→名'] }, { responseNonce: 'x', resourceNames: ['*'] }]) {
      const buf = wire(init);
      expect(viaShort(buf)).toEqual({ value: fromBinary(DiscoveryRequestSchema, buf), short: true });
    }
  });

  it('leaves first requests (node) and NACKs (error detail) to protobuf-es', () => {
    for (const init of [
      { typeUrl: EDS, node: create(NodeSchema, { id: 'sidecar-1' }) },
      { typeUrl: EDS, responseNonce: '3', errorDetail: create(StatusSchema, { code: 3, message: 'rejected' }) },
    ]) {
      const buf = wire(init);
      expect(viaShort(buf)).toEqual({ value: fromBinary(DiscoveryRequestSchema, buf), short: false });
    }
  });

  it('leaves unknown fields and names split by other fields to protobuf-es', () => {
    const unknown = Buffer.concat([wire({ typeUrl: EDS }), Buffer.from([0x78, 0x01])]); // field 15, varint
    const split = Buffer.concat([wire({ resourceNames: ['a'] }), wire({ typeUrl: EDS }), wire({ resourceNames: ['b'] })]);
    for (const buf of [unknown, split]) {
      const { value, short } = viaShort(buf);
      expect(short).toBe(false);
      expect(value).toEqual(fromBinary(DiscoveryRequestSchema, buf));
    }
    expect((decodeDiscoveryRequest(split) as { resourceNames: string[] }).resourceNames).toEqual(['a', 'b']);
  });

  it('throws on malformed bytes and invalid UTF-8 as protobuf-es does (grpc-js then ends only that call)', () => {
    for (const buf of [
      Buffer.from([0x1a, 0x02, 0xc3, 0x28]),
      Buffer.from([0x2a, 0x01, 0xff]),
      Buffer.from([0x22, 0x05, 0x61]),
      Buffer.from([0x22]),
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ]) {
      expect(() => fromBinary(DiscoveryRequestSchema, buf)).toThrow();
      expect(() => decodeDiscoveryRequest(buf)).toThrow();
    }
  });
});

describe('DeltaDiscoveryRequest decoding', () => {
  const deltaWire = (init: Parameters<typeof create<typeof DeltaDiscoveryRequestSchema>>[1]): Buffer =>
    Buffer.from(toBinary(DeltaDiscoveryRequestSchema, create(DeltaDiscoveryRequestSchema, init)));
  const viaShortDelta = (buf: Buffer): { value: unknown; short: boolean } => {
    const before = requestDecodes.short;
    const value = decodeDeltaDiscoveryRequest(buf);
    return { value, short: requestDecodes.short > before };
  };

  it('reads ACKs and subscription changes on the short path, equal to what protobuf-es reads', () => {
    for (const init of [
      { typeUrl: EDS, responseNonce: '7' },
      { typeUrl: EDS, resourceNamesSubscribe: names },
      { typeUrl: EDS, resourceNamesSubscribe: ['*', 'a'], resourceNamesUnsubscribe: ['b', 'ü→名'], responseNonce: '9' },
      {},
    ]) {
      const buf = deltaWire(init);
      expect(viaShortDelta(buf)).toEqual({ value: fromBinary(DeltaDiscoveryRequestSchema, buf), short: true });
    }
  });

  it('shares one frozen subscribe array between streams subscribing alike', () => {
    const a = decodeDeltaDiscoveryRequest(deltaWire({ typeUrl: EDS, resourceNamesSubscribe: names }));
    const b = decodeDeltaDiscoveryRequest(deltaWire({ typeUrl: EDS, resourceNamesSubscribe: names }));
    expect(b.resourceNamesSubscribe).toBe(a.resourceNamesSubscribe);
    expect(Object.isFrozen(a.resourceNamesSubscribe)).toBe(true);
  });

  it('leaves a node, initial versions, an error detail and split names to protobuf-es', () => {
    const split = Buffer.concat([deltaWire({ resourceNamesSubscribe: ['a'] }), deltaWire({ typeUrl: EDS }), deltaWire({ resourceNamesSubscribe: ['b'] })]);
    for (const buf of [
      deltaWire({ typeUrl: EDS, node: create(NodeSchema, { id: 'sidecar-1' }) }),
      deltaWire({ typeUrl: EDS, initialResourceVersions: { a: '1' } }),
      deltaWire({ typeUrl: EDS, responseNonce: '3', errorDetail: create(StatusSchema, { code: 3, message: 'rejected' }) }),
      split,
    ]) {
      expect(viaShortDelta(buf)).toEqual({ value: fromBinary(DeltaDiscoveryRequestSchema, buf), short: false });
    }
  });

  it('throws on malformed bytes and invalid UTF-8 as protobuf-es does', () => {
    for (const buf of [Buffer.from([0x1a, 0x02, 0xc3, 0x28]), Buffer.from([0x12, 0x01, 0xff]), Buffer.from([0x32, 0x05, 0x61]), Buffer.from([0x22])]) {
      expect(() => fromBinary(DeltaDiscoveryRequestSchema, buf)).toThrow();
      expect(() => decodeDeltaDiscoveryRequest(buf)).toThrow();
    }
  });
});
