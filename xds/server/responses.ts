// Response encoding. A response body (everything but the nonce) is encoded once per
// distinct content and shared by every stream that sends it; the per-stream nonce is
// appended as one more field (protobuf fields may come in any order).
import { create, toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { DeltaDiscoveryResponseSchema, DiscoveryResponseSchema, ResourceSchema } from '../gen/envoy/service/discovery/v3/discovery_pb.js';
import { nonceUsable } from '../protocol/ack.ts';
import type { EncodedResource } from '../snapshot/types.ts';
import type { EncodedMessage } from './service-definitions.ts';

/** DiscoveryResponse.nonce and DeltaDiscoveryResponse.nonce are both field 5 (string). */
const NONCE_TAG = (5 << 3) | 2;

function anyOf(r: EncodedResource) {
  return create(AnySchema, { typeUrl: r.typeUrl, value: r.bytes });
}

export function sotwBody(typeUrl: string, versionInfo: string, resources: Iterable<EncodedResource>): Uint8Array {
  return toBinary(DiscoveryResponseSchema, create(DiscoveryResponseSchema, { versionInfo, typeUrl, resources: [...resources].map(anyOf) }));
}

export function deltaBody(typeUrl: string, systemVersionInfo: string, resources: Iterable<EncodedResource>, removed: readonly string[]): Uint8Array {
  return toBinary(
    DeltaDiscoveryResponseSchema,
    create(DeltaDiscoveryResponseSchema, {
      systemVersionInfo,
      typeUrl,
      resources: [...resources].map((r) => create(ResourceSchema, { name: r.name, version: r.version, resource: anyOf(r) })),
      removedResources: [...removed],
    }),
  );
}

/** The gRPC length-prefixed frame header: a compressed flag (0) and a 32-bit big-endian length. */
const FRAME_HEADER = 5;

/**
 * The complete message for a body and nonce, built once inside its gRPC frame: every stream
 * that sends it writes this same buffer (see zero-copy.ts), so nothing is copied per stream.
 */
export function withNonce(body: Uint8Array, nonce: string): EncodedMessage {
  const n = Buffer.from(nonce, 'utf8');
  const len: number[] = [];
  for (let v = n.length; ; v >>>= 7) {
    if (v < 0x80) {
      len.push(v);
      break;
    }
    len.push((v & 0x7f) | 0x80);
  }
  const size = body.length + 1 + len.length + n.length;
  const framed = Buffer.allocUnsafe(FRAME_HEADER + size);
  framed[0] = 0;
  framed.writeUInt32BE(size, 1);
  framed.set(body, FRAME_HEADER);
  framed[FRAME_HEADER + body.length] = NONCE_TAG;
  framed.set(len, FRAME_HEADER + body.length + 1);
  framed.set(n, FRAME_HEADER + body.length + 1 + len.length);
  return { encoded: framed.subarray(FRAME_HEADER), framed };
}

const shared = new WeakMap<Uint8Array, { readonly nonce: string; readonly message: EncodedMessage }>();

/**
 * The complete message for a body, with a nonce of its own, shared by every stream that
 * sends this body: a push to 10,000 proxies of one group then costs no copy per stream.
 * Nonces are base-36 numbers from one increasing sequence, and a stream's nonces for a type
 * must only increase (so none repeats): a message whose nonce is not newer than `after`
 * (the stream's latest for the type, or '') is replaced by one with a fresh nonce, shared
 * in turn (content that comes back, X → Y → X, gets one new copy, not one per stream).
 */
export function sharedMessage(body: Uint8Array, nextNonce: () => string, after: string): { readonly nonce: string; readonly message: EncodedMessage } {
  let m = shared.get(body);
  if (m === undefined || !nonceUsable(m.nonce, after)) {
    const nonce = nextNonce();
    m = { nonce, message: withNonce(body, nonce) };
    shared.set(body, m);
  }
  return m;
}

/**
 * Memo keyed on an object (dies with it) plus a string (type URL, name list, …). The strings
 * may derive from what clients subscribe to, so each owner keeps at most `perOwner` bodies:
 * past that, a body is encoded for its caller only (counted), and the memo cannot grow with
 * the number of distinct subscriptions clients invent.
 */
export class BodyMemo<K extends object> {
  readonly #memo = new WeakMap<K, Map<string, Uint8Array>>();
  readonly #perOwner: number;
  readonly #onFull: () => void;

  constructor(perOwner = 256, onFull: () => void = () => {}) {
    this.#perOwner = perOwner;
    this.#onFull = onFull;
  }

  get(key: K, sub: string, make: () => Uint8Array): Uint8Array {
    let byKey = this.#memo.get(key);
    if (byKey === undefined) this.#memo.set(key, (byKey = new Map()));
    let body = byKey.get(sub);
    if (body !== undefined) return body;
    body = make();
    if (byKey.size < this.#perOwner) byKey.set(sub, body);
    else this.#onFull();
    return body;
  }
}
