// grpc-js (1.14) offers no way to end a server stream whose peer stopped reading: the status
// it sends waits behind the unsent responses forever, and so does their memory. The HTTP/2
// stream sits at the end of the call's private chain (call.call[.nextCall…].stream); resetting
// it (RST_STREAM CANCEL) frees what is queued and closes the call. Pinned by
// test/attack/non-reading.test.ts, which fails if a grpc-js upgrade moves it.
import { constants } from 'node:http2';

interface Link {
  readonly call?: Link;
  readonly nextCall?: Link;
  readonly stream?: { close?: (code: number) => void };
}

export function resetStream(call: object): boolean {
  let link: Link | undefined = (call as Link).call;
  for (let depth = 0; link !== undefined && depth < 8; depth++) {
    const close = link.stream?.close;
    if (typeof close === 'function') {
      close.call(link.stream, constants.NGHTTP2_CANCEL);
      return true;
    }
    link = link.nextCall;
  }
  return false;
}
