// One buffer for every stream that sends a response. grpc-js frames each message it writes
// (BaseServerInterceptingCall.serializeMessage: allocate body + 5 bytes, copy the body in),
// so a push of one 37 KB body to 10,000 streams allocated and copied 370 MB; it was ≈ 30 %
// of the server's CPU at 10k proxies (issue 11). Responses built by responses.ts carry their
// gRPC frame already (EncodedMessage.framed); this hook makes grpc-js write that frame as is.
// Everything else grpc-js does for a message (size limit, headers, write callback) still runs.
// Node's HTTP/2 streams keep a reference to the buffer until it is sent and never write into
// it, so one frame may be queued on any number of streams. Why not our own HTTP/2 server, or
// a fork: docs/scale.md ("Frame once").
import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors.js';
import type { EncodedMessage } from './service-definitions.ts';

type Serialize = (this: unknown, value: unknown) => Buffer;
const proto = BaseServerInterceptingCall.prototype as unknown as { serializeMessage?: Serialize };
const INSTALLED = Symbol.for('weft.zeroCopyWrites');

function framedOf(value: unknown): Buffer | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const framed = (value as Partial<EncodedMessage>).framed;
  return framed instanceof Buffer ? framed : undefined;
}

/**
 * Makes grpc-js write pre-framed messages without copying them; idempotent. Returns false
 * (and changes nothing: messages are then framed per stream, correct but slower) when this
 * grpc-js has no such method, so an upgrade degrades speed, never correctness; a test pins it.
 */
export function installZeroCopyWrites(): boolean {
  const original = proto.serializeMessage;
  if (typeof original !== 'function') return false;
  if ((original as { [INSTALLED]?: true })[INSTALLED]) return true;
  const patched: Serialize = function (this: unknown, value: unknown): Buffer {
    return framedOf(value) ?? original.call(this, value);
  };
  Object.defineProperty(patched, INSTALLED, { value: true });
  proto.serializeMessage = patched;
  return true;
}
