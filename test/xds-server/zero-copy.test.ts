// Frame once: a response's gRPC frame is built with its nonce and written as is by every
// stream that sends it (xds/server/zero-copy.ts). Pins the grpc-js hook, so an upgrade that
// removes it fails here instead of silently copying 10,000 frames per push.
import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors.js';
import { fromBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { DiscoveryResponseSchema } from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { sotwBody, withNonce } from '../../xds/server/responses.ts';
import { installZeroCopyWrites } from '../../xds/server/zero-copy.ts';

type Serialize = (value: unknown) => Buffer;

describe('zero-copy writes', () => {
  it('frames the body and nonce once: header, then the message grpc-js would have framed', () => {
    const body = sotwBody('type.googleapis.com/x', 'v1', []);
    const m = withNonce(body, 'abc');
    expect(m.framed?.[0]).toBe(0);
    expect(m.framed?.readUInt32BE(1)).toBe(m.encoded.length);
    expect(m.framed?.subarray(5).equals(m.encoded)).toBe(true);
    const decoded = fromBinary(DiscoveryResponseSchema, m.encoded);
    expect([decoded.versionInfo, decoded.nonce]).toEqual(['v1', 'abc']);
  });

  it('hands grpc-js the shared frame itself, and frames plain messages as before', () => {
    expect(installZeroCopyWrites()).toBe(true);
    expect(installZeroCopyWrites()).toBe(true); // idempotent: no second wrapper
    const serializeMessage = (BaseServerInterceptingCall.prototype as unknown as { serializeMessage: Serialize }).serializeMessage;
    const call = { handler: { serialize: (v: { encoded: Uint8Array }) => Buffer.from(v.encoded) } };
    const m = withNonce(sotwBody('type.googleapis.com/x', 'v1', []), 'n');
    expect(serializeMessage.call(call, m)).toBe(m.framed);
    expect(serializeMessage.call(call, m)).toBe(m.framed); // the same buffer for every stream
    const plain = { encoded: m.encoded };
    const framed = serializeMessage.call(call, plain);
    expect(framed).not.toBe(m.framed);
    expect(framed.equals(m.framed!)).toBe(true);
  });
});
