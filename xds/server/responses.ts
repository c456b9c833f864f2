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
  const out = Buffer.allocUnsafe(body.length + 1 + len.length + n.length);
  out.set(body, 0);
  out[body.length] = NONCE_TAG;
  out.set(len, body.length + 1);
  out.set(n, body.length + 1 + len.length);
  return { encoded: out };
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

/** Memo keyed on an object (dies with it) plus a string (type URL, name list, …). */
export class BodyMemo<K extends object> {
  readonly #memo = new WeakMap<K, Map<string, Uint8Array>>();

  get(key: K, sub: string, make: () => Uint8Array): Uint8Array {
    let byKey = this.#memo.get(key);
    if (byKey === undefined) this.#memo.set(key, (byKey = new Map()));
    let body = byKey.get(sub);
    if (body === undefined) byKey.set(sub, (body = make()));
    return body;
  }
}
