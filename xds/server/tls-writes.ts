// Memory per TLS connection: responses reach the TLS layer in slices under 16 KiB.
//
// Node's TLS socket (TLSWrap) encrypts into a ring of buffers (NodeBIO) that never shrinks
// below two. A write of 16 KiB or more is encrypted into one new buffer sized to the whole
// write (the "allocate hint" of TLSWrap::DoWrite), and HTTP/2 hands TLS everything a session
// has queued in one write: so each connection kept, for its life, a buffer as large as the
// largest burst it ever sent — ≈ 49 KiB for a 37 KB response, more after an initial sync that
// sends every resource type at once (issue 11; docs/scale.md "Deployed mode"). Writes under
// 16 KiB are encrypted into 16 KiB buffers instead, and the ring keeps one or two of those.
//
// So on TLS connections each HTTP/2 stream hands Node its data in slices, one at a time: a
// slice goes to the session only when the previous one was written to the socket (the write
// callback of an HTTP/2 stream fires then), so a session write holds one slice per busy stream.
// The caller's callback fires after the last slice, as it would have after the whole write.
// Plaintext connections are left alone (no such buffer; slicing would only cost CPU).
import type { ServerHttp2Stream } from 'node:http2';
import type { Server } from '@grpc/grpc-js';

/**
 * Payload bytes per slice: one HTTP/2 DATA frame (9-byte header) plus the small frames a
 * session write may carry with it (HEADERS of a first response, WINDOW_UPDATE, PING and
 * SETTINGS acknowledgements) stay under the 16 KiB that triggers the large buffer.
 */
export const TLS_SLICE_BYTES = 16 * 1024 - 512;

type WriteCallback = (err?: Error | null) => void;
type Write = (chunk: unknown, encodingOrCb?: BufferEncoding | WriteCallback, cb?: WriteCallback) => boolean;
const SLICED = Symbol.for('weft.tlsSlicedWrites');

/** Makes `stream` pass writes larger than `slice` bytes to Node one slice at a time; idempotent. */
export function sliceWrites(stream: ServerHttp2Stream, slice = TLS_SLICE_BYTES): void {
  const s = stream as unknown as { write: Write; _writev: unknown; [SLICED]?: true };
  if (s[SLICED]) return;
  s[SLICED] = true;
  // Without _writev, Writable hands buffered chunks to the stream one by one, each after the
  // previous one's callback; with it, all at once (one session write of everything queued).
  s._writev = null;
  const write = s.write.bind(stream) as Write;
  s.write = (chunk, encodingOrCb, cb) => {
    const callback = typeof encodingOrCb === 'function' ? encodingOrCb : cb;
    if (!(chunk instanceof Uint8Array) || chunk.byteLength <= slice) return write(chunk, encodingOrCb, cb);
    let ok = true;
    for (let at = 0; at < chunk.byteLength; at += slice) {
      const last = at + slice >= chunk.byteLength;
      ok = write(chunk.subarray(at, at + slice), last ? callback : undefined);
    }
    return ok;
  };
}

/**
 * The HTTP/2 server grpc-js made for the connection injector created last on `server`
 * (grpc-js keeps them in a private map, in creation order); undefined if this grpc-js has none.
 */
function lastHttp2Server(server: Server): { prependListener(event: 'stream', l: (s: ServerHttp2Stream) => void): unknown } | undefined {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map) || servers.size === 0) return undefined;
  const last: unknown = [...servers.keys()].at(-1);
  return typeof (last as { prependListener?: unknown } | undefined)?.prependListener === 'function'
    ? (last as { prependListener(event: 'stream', l: (s: ServerHttp2Stream) => void): unknown })
    : undefined;
}

/**
 * Slices the writes of every stream of the TLS connection injector just created on `server`
 * (listen.ts). Returns false, changing nothing, when this grpc-js keeps its HTTP/2 servers
 * elsewhere: TLS connections then keep their larger buffers (more memory, same behaviour);
 * a test pins that it is found.
 */
export function sliceTlsWrites(server: Server, slice = TLS_SLICE_BYTES): boolean {
  const http2 = lastHttp2Server(server);
  if (http2 === undefined) return false;
  http2.prependListener('stream', (stream) => sliceWrites(stream, slice));
  return true;
}
