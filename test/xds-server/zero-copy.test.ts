// Frame once: a response's gRPC frame is built with its nonce and written as is by every
// stream that sends it, and a request received in one chunk is read without a copy
// (xds/server/zero-copy.ts). Pins the grpc-js hooks, so an upgrade that removes them fails
// here instead of silently copying 10,000 frames per push.
import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors.js';
import { fromBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { DiscoveryResponseSchema } from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { sotwBody, withNonce } from '../../xds/server/responses.ts';
import { StreamDecoder } from '@grpc/grpc-js/build/src/stream-decoder.js';
import { installZeroCopyReads, installZeroCopyWrites } from '../../xds/server/zero-copy.ts';

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

type Decode = (data: Buffer) => Buffer[];
// grpc-js's own decoder: kept on the hook once installed (another test file may have installed it).
const current = (StreamDecoder.prototype as unknown as { write: Decode & { [k: symbol]: Decode | undefined } }).write;
const grpcWrite: Decode = current[Symbol.for('weft.zeroCopyReads')] ?? current;

function frame(body: Buffer, flag = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Messages out of `chunks`, by grpc-js's own decoder or by the hooked one. */
function decodeAll(chunks: readonly Buffer[], write: Decode, max = -1): Buffer[] {
  const d = new StreamDecoder(max) as unknown as { write: Decode };
  return chunks.flatMap((c) => write.call(d, c));
}

describe('zero-copy reads', () => {
  const hooked = (chunks: readonly Buffer[], max = -1): Buffer[] => {
    expect(installZeroCopyReads()).toBe(true);
    return decodeAll(chunks, (StreamDecoder.prototype as unknown as { write: Decode }).write, max);
  };

  it('is installed once, and a message in one chunk is a view of that chunk', () => {
    expect(installZeroCopyReads()).toBe(true);
    expect(installZeroCopyReads()).toBe(true); // idempotent
    expect((StreamDecoder.prototype as unknown as { write: Decode }).write).not.toBe(grpcWrite);
    const chunk = Buffer.concat([frame(Buffer.from('ack-1')), frame(Buffer.alloc(0)), frame(Buffer.from('ack-2'))]);
    const got = hooked([chunk]);
    expect(got.map((m) => m.subarray(5).toString())).toEqual(['ack-1', '', 'ack-2']);
    for (const m of got) expect(m.buffer).toBe(chunk.buffer);
  });

  it('gives the messages grpc-js gives, however the bytes are cut into chunks', () => {
    const bodies = [0, 1, 5, 300, 5000, 17_000, 3].map((n, i) => Buffer.alloc(n, 97 + i));
    const stream = Buffer.concat(bodies.map((b, i) => frame(b, i === 4 ? 1 : 0)));
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < stream.length;) {
        const len = 1 + rand(round % 4 === 0 ? 8 : 9000);
        chunks.push(stream.subarray(at, at + len));
        at += len;
      }
      const want = decodeAll(chunks, grpcWrite);
      const got = hooked(chunks);
      expect(got.map((m) => m.toString('hex'))).toEqual(want.map((m) => m.toString('hex')));
    }
  });

  it('holds no chunk once a message split over chunks is complete', () => {
    expect(installZeroCopyReads()).toBe(true);
    const d = new StreamDecoder(-1) as unknown as { write: Decode; readPartialMessage: Buffer[]; readCompressFlag: Buffer };
    const bytes = frame(Buffer.alloc(3000, 120));
    const first = Buffer.from(bytes.subarray(0, 1000)); // own memory, as Node's read chunks are
    const second = Buffer.from(bytes.subarray(1000));
    expect(d.write(first)).toEqual([]);
    expect(d.readPartialMessage.length).toBe(1); // mid-message: grpc-js needs the first part
    const [message] = d.write(second);
    expect(message!.equals(bytes)).toBe(true);
    expect(d.readPartialMessage).toEqual([]);
    for (const kept of [...d.readPartialMessage, d.readCompressFlag]) expect([first.buffer, second.buffer]).not.toContain(kept.buffer);
  });

  it('holds no read chunk while a message waits for its rest, only copies of its bytes', () => {
    expect(installZeroCopyReads()).toBe(true);
    const d = new StreamDecoder(-1) as unknown as { write: Decode; readPartialMessage: Buffer[]; readCompressFlag: Buffer };
    const whole = frame(Buffer.from('ack'));
    const split = frame(Buffer.alloc(3000, 120), 0);
    // One read: a whole request, then the start of the next (its flag, its size, 1,000 bytes).
    const first = Buffer.concat([whole, split.subarray(0, 1005)]);
    const middle = Buffer.from(split.subarray(1005, 2005));
    const last = Buffer.from(split.subarray(2005));
    expect(d.write(first).map((m) => m.equals(whole))).toEqual([true]);
    const kept = (): Buffer[] => [d.readCompressFlag, ...d.readPartialMessage];
    expect(kept().some((b) => b.buffer === first.buffer)).toBe(false);
    expect(d.write(middle)).toEqual([]);
    expect(kept().some((b) => b.buffer === first.buffer || b.buffer === middle.buffer)).toBe(false);
    expect(d.readPartialMessage.reduce((n, b) => n + b.length, 0)).toBe(2000);
    const [message] = d.write(last);
    expect(message!.equals(split)).toBe(true);
  });

  it("refuses a message over the receive limit with grpc-js's error", () => {
    const big = frame(Buffer.alloc(100));
    expect(() => decodeAll([big], grpcWrite, 64)).toThrow('Received message larger than max (100 vs 64)');
    expect(() => hooked([big], 64)).toThrow('Received message larger than max (100 vs 64)');
    expect(() => hooked([big.subarray(0, 3), big.subarray(3)], 64)).toThrow('Received message larger than max (100 vs 64)');
  });
});
