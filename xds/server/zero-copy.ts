// One buffer for every stream that sends a response, and no copy of a request. grpc-js frames
// each message it writes (BaseServerInterceptingCall.serializeMessage: allocate body + 5 bytes,
// copy the body in), so a push of one 37 KB body to 10,000 streams allocated and copied 370 MB;
// it was ≈ 30 % of the server's CPU at 10k proxies (issue 11). Responses built by responses.ts
// carry their gRPC frame already (EncodedMessage.framed); the write hook makes grpc-js write
// that frame as is. Everything else grpc-js does for a message (size limit, headers, write
// callback) still runs. Node's HTTP/2 streams keep a reference to the buffer until it is sent
// and never write into it, so one frame may be queued on any number of streams. Why not our
// own HTTP/2 server, or a fork: docs/scale.md ("Frame once").
//
// Reads, the other way: grpc-js's StreamDecoder copies every received message into a new
// buffer (Buffer.concat of the flag, the length and the body), even when the whole message is
// in one DATA chunk — as an ACK always is. A SotW ACK repeats its subscription (≈ 5 KB for 100
// names): over the pool size, so each was a fresh ArrayBuffer, and a 10k push made 10,000 of
// them (a quarter of the CPU of repeated ACKs went to the garbage collector). The read hook
// returns such a message as a view of the chunk; anything split over chunks takes grpc-js's
// own path, which keeps copies, not views, of a read while the rest of its message is awaited
// (keepCopies). Node hands each DATA chunk over in memory it never reuses, so a view stays valid.
import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors.js';
import { StreamDecoder } from '@grpc/grpc-js/build/src/stream-decoder.js';
import type { EncodedMessage } from './service-definitions.ts';
import { ownCopy } from '../../src/base/own-copy.ts';

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

/** What the read hook relies on of grpc-js's decoder: its state (0: between messages) and limit. */
interface DecoderState {
  readState: number;
  readonly maxReadMessageLength: number;
  /** Views of the chunks a message split over them came in, and its flag byte: kept by grpc-js until the next message starts. */
  readPartialMessage: Buffer[];
  readCompressFlag: Buffer;
}
type Write = (this: DecoderState, data: Buffer) => Buffer[];
const decoderProto = StreamDecoder.prototype as unknown as { write?: Write };
const READS_INSTALLED = Symbol.for('weft.zeroCopyReads');
const NO_DATA = 0;

/**
 * Whole messages at the start of `data` as views of it (the decoder between messages), then
 * the rest through grpc-js's own state machine. Same messages, same errors as grpc-js.
 */
export function readWhole(decoder: DecoderState, data: Buffer, original: Write): Buffer[] {
  if (decoder.readState !== NO_DATA) return grpcRead(decoder, data, original);
  const out: Buffer[] = [];
  let at = 0;
  while (data.length - at >= 5) {
    const size = data.readUInt32BE(at + 1);
    if (decoder.maxReadMessageLength !== -1 && size > decoder.maxReadMessageLength) {
      throw new Error(`Received message larger than max (${size} vs ${decoder.maxReadMessageLength})`);
    }
    if (data.length - at - 5 < size) break;
    out.push(at === 0 && size + 5 === data.length ? data : data.subarray(at, at + 5 + size)); // an ACK is a chunk of its own
    at += 5 + size;
  }
  if (at === data.length) return out;
  const rest = grpcRead(decoder, at === 0 ? data : data.subarray(at), original);
  return out.length === 0 ? rest : out.concat(rest);
}

const NO_PARTS = Object.freeze([]) as unknown as Buffer[]; // frozen: a grpc-js that pushed without resetting would throw, not share
const NO_FLAG = Buffer.alloc(1);

/**
 * grpc-js's own state machine; once it is between messages again, it lets go of the chunks the
 * last one came in (grpc-js keeps views of them until the next message starts: a read chunk
 * per idle stream). Both fields are replaced before they are used again.
 */
function grpcRead(decoder: DecoderState, data: Buffer, original: Write): Buffer[] {
  const messages = original.call(decoder, data);
  if (decoder.readState === NO_DATA) {
    decoder.readPartialMessage = NO_PARTS;
    decoder.readCompressFlag = NO_FLAG;
  } else {
    keepCopies(decoder, data);
  }
  return messages;
}

/**
 * Mid-message, grpc-js keeps views of `data` (the flag byte, the message's first bytes) until
 * the rest arrives. A view holds the whole read chunk — often many requests, tens of KB — and
 * under load the rest of a stream's message comes after the young generation was collected
 * twice: the chunk is promoted and dies in the old generation, where only a full mark-compact
 * frees it. At 10k proxies every read chunk went that way (V8 started a full collection for
 * each 64 MB of such memory: "external memory pressure", every ≈ 0.5 s of repeated ACKs), and
 * what waited for those collections lifted the process's RSS by hundreds of MB. Copying the
 * few bytes kept lets the chunk die young. Earlier parts were copied when they came.
 */
function keepCopies(decoder: DecoderState, data: Buffer): void {
  const chunk = data.buffer;
  if (decoder.readCompressFlag.buffer === chunk) decoder.readCompressFlag = ownCopy(decoder.readCompressFlag);
  const parts = decoder.readPartialMessage;
  for (let i = parts.length - 1; i >= 0 && parts[i]!.buffer === chunk; i--) parts[i] = ownCopy(parts[i]!);
}

/**
 * Makes grpc-js hand over a message received in one chunk without copying it; idempotent.
 * False (nothing changed: messages are copied, correct but slower) when this grpc-js's
 * decoder is not the one this was written against; a test pins it.
 */
export function installZeroCopyReads(): boolean {
  const original = decoderProto.write;
  if (typeof original !== 'function') return false;
  if ((original as { [READS_INSTALLED]?: Write })[READS_INSTALLED]) return true;
  const probe = new StreamDecoder(-1) as unknown as Partial<DecoderState>;
  if (probe.readState !== NO_DATA || probe.maxReadMessageLength !== -1 || !Array.isArray(probe.readPartialMessage) || !Buffer.isBuffer(probe.readCompressFlag))
    return false;
  const patched: Write = function (this: DecoderState, data: Buffer): Buffer[] {
    return readWhole(this, data, original);
  };
  Object.defineProperty(patched, READS_INSTALLED, { value: original }); // grpc-js's own, for tests
  decoderProto.write = patched;
  return true;
}

/** What the direct-read hook uses of grpc-js's server call (1.14). */
interface ServerCall {
  checkCancelled(): boolean;
  sendStatus(s: { code: number; details: string; metadata?: null }): void;
  decompressAndMaybePush(entry: QueueEntry): Promise<void>;
  readonly decoder: { write(data: Buffer): Buffer[] };
  readonly handler: { deserialize(b: Buffer): unknown };
  readonly stream: { pause(): unknown };
  readonly readQueue: QueueEntry[];
  readonly listener: { onReceiveMessage(m: unknown): void } | null;
  readonly callEventTracker?: { addMessageReceived(): void } | null;
  readonly cancelled: boolean;
  isReadPending: boolean;
}
interface QueueEntry {
  type: 'COMPRESSED' | 'READABLE' | 'HALF_CLOSE';
  compressedMessage: Buffer | null;
  parsedMessage: unknown;
}
const callProto = BaseServerInterceptingCall.prototype as unknown as { handleDataFrame?: (this: ServerCall, data: Buffer) => void };
const DIRECT_INSTALLED = Symbol.for('weft.directReads');
/** Messages delivered at once and through grpc-js's queue (tests and benchmarks). */
export const directReads = { direct: 0, queued: 0 };
const RESOURCE_EXHAUSTED = 8;
const INTERNAL = 13;

/**
 * grpc-js hands each received message to the application through a queue, an async
 * decompression step (a microtask even for uncompressed messages) and a pause/resume of the
 * HTTP/2 stream (a native readStop/readStart) per message. When the application is waiting
 * for a message and nothing is queued, an uncompressed one is delivered at once; anything
 * else (compressed, the application not reading, messages queued) takes grpc-js's path, so
 * order and back-pressure are its own.
 */
export function installDirectReads(): boolean {
  const original = callProto.handleDataFrame;
  if (typeof original !== 'function') return false;
  if ((original as { [DIRECT_INSTALLED]?: unknown })[DIRECT_INSTALLED]) return true;
  const patched = function (this: ServerCall, data: Buffer): void {
    if (this.checkCancelled()) return;
    let messages: Buffer[];
    try {
      messages = this.decoder.write(data);
    } catch (e) {
      this.sendStatus({ code: RESOURCE_EXHAUSTED, details: (e as Error).message });
      return;
    }
    for (const bytes of messages) {
      this.callEventTracker?.addMessageReceived();
      if (bytes[0] === 0 && this.isReadPending && this.readQueue.length === 0 && this.listener !== null && !this.cancelled) {
        let parsed: unknown;
        try {
          parsed = this.handler.deserialize(bytes.subarray(5));
        } catch {
          this.sendStatus({ code: INTERNAL, details: 'Error deserializing request', metadata: null });
          return;
        }
        this.isReadPending = false;
        directReads.direct++;
        this.listener.onReceiveMessage(parsed);
        continue;
      }
      directReads.queued++;
      this.stream.pause();
      const entry: QueueEntry = { type: 'COMPRESSED', compressedMessage: bytes, parsedMessage: null };
      this.readQueue.push(entry);
      void this.decompressAndMaybePush(entry);
    }
  };
  Object.defineProperty(patched, DIRECT_INSTALLED, { value: original });
  callProto.handleDataFrame = patched;
  return true;
}
