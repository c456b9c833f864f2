// Decoding only what an ACK needs (issue 11, item 4). Every SotW request repeats the whole
// subscription: an Envoy with 100 clusters ACKs each EDS response with the 100 names again,
// and 10,000 of them do so after every push. protobuf-es decodes such a request through its
// reflection (a message object, a string per name), ≈ 5 % of the server's CPU at 1k proxies.
// An ACK carries no node (Envoy sends it on the first request only: set_node_on_first_message_only)
// and no error: this reader takes version_info, type_url and response_nonce, and the names as
// one span of bytes. Equal spans (every proxy of a group subscribes alike) map to one shared,
// frozen names array, so the reducer's "same names as before?" is an identity check
// (xds/protocol/sotw.ts) and no string per name is made. Anything else — a node, an error
// detail, resource locators, unknown fields, invalid UTF-8, malformed bytes — goes to
// protobuf-es as before, so behaviour (and errors) are exactly its own.
import { fromBinary } from '@bufbuild/protobuf';
import { isUtf8 } from 'node:buffer';
import { ownCopy } from '../../src/base/own-copy.ts';
import {
  DeltaDiscoveryRequestSchema,
  DiscoveryRequestSchema,
  type DeltaDiscoveryRequest,
  type DiscoveryRequest,
} from '../gen/envoy/service/discovery/v3/discovery_pb.js';

/** Distinct name spans kept (and their total bytes): a client inventing subscriptions empties the table, never grows it. */
const MAX_SPANS = 4096;
const MAX_SPAN_BYTES = 32 * 1024 * 1024;
/** Spans with one fingerprint compared at most (a client crafting collisions gets the plain decode). */
const MAX_CHAIN = 8;
/** Bytes sampled for the fingerprint: hashing a 5 KB key as a string costs more than decoding it. */
const SAMPLES = 64;

interface Span {
  readonly bytes: Buffer;
  readonly names: readonly string[];
}

const spans = new Map<number, Span[]>();
let spanCount = 0;
let spanBytes = 0;

function fingerprint(buf: Buffer, start: number, end: number): number {
  const len = end - start;
  let h = Math.imul(0x811c9dc5 ^ len, 16777619);
  const step = len <= SAMPLES ? 1 : Math.floor(len / SAMPLES);
  for (let i = start; i < end; i += step) h = Math.imul(h ^ buf[i]!, 16777619);
  return Math.imul(h ^ buf[end - 1]!, 16777619);
}

/** Decode statistics (bench/ and tests): requests read by the short path, and by protobuf-es. */
export const requestDecodes = { short: 0, full: 0 };
/** Off only to measure what the short path saves (`npm run bench -- peer --full-decode`). */
export const ackShortPath = { enabled: true };

const TAG_VERSION = (1 << 3) | 2;
const TAG_NAMES = (3 << 3) | 2;
const TAG_TYPE = (4 << 3) | 2;
const TAG_NONCE = (5 << 3) | 2;

/** A varint at `pos` (< 2^28: tags and lengths of a request under the receive limit), or -1. */
function varint(buf: Buffer, at: { pos: number }): number {
  let v = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (at.pos >= buf.length) return -1;
    const b = buf[at.pos++]!;
    v |= (b & 0x7f) << shift;
    if (b < 0x80) return v;
  }
  return -1;
}

// Short texts repeat across streams (the type URL, the nonce and version of a shared response):
// one string per distinct bytes, found by a fingerprint and a compare, so an ACK makes neither a
// view nor a string for them. Bounded like the names spans: emptied when full.
const MAX_TEXTS = 4096;
const INTERNED_TEXT_BYTES = 128;
const texts = new Map<number, { readonly bytes: Buffer; readonly text: string }>();

function text(buf: Buffer, start: number, end: number): string | undefined {
  if (end === start) return '';
  const short = end - start <= INTERNED_TEXT_BYTES;
  const fp = short ? fingerprint(buf, start, end) : 0;
  const hit = short ? texts.get(fp) : undefined;
  if (hit !== undefined && hit.bytes.length === end - start && buf.compare(hit.bytes, 0, hit.bytes.length, start, end) === 0) return hit.text;
  const bytes = buf.subarray(start, end);
  if (!isUtf8(bytes)) return undefined;
  const decoded = bytes.toString('utf8');
  if (short) {
    if (texts.size >= MAX_TEXTS) texts.clear();
    texts.set(fp, { bytes: ownCopy(bytes), text: decoded }); // kept: a view would hold the read chunk
  }
  return decoded;
}

function namesOf(buf: Buffer, start: number, end: number): readonly string[] | undefined {
  if (start === end) return [];
  const fp = fingerprint(buf, start, end);
  const chain = spans.get(fp);
  const bytes = buf.subarray(start, end);
  if (chain !== undefined) for (const s of chain) if (s.bytes.equals(bytes)) return s.names;
  const names: string[] = [];
  const at = { pos: start };
  while (at.pos < end) {
    at.pos++; // TAG_NAMES (the span holds nothing else)
    const len = varint(buf, at);
    const s = text(buf, at.pos, at.pos + len);
    if (s === undefined) return undefined;
    names.push(s);
    at.pos += len;
  }
  Object.freeze(names);
  if ((chain?.length ?? 0) >= MAX_CHAIN) return names;
  if (spanCount >= MAX_SPANS || spanBytes + bytes.length > MAX_SPAN_BYTES) {
    spans.clear();
    spanCount = spanBytes = 0;
  }
  const span = { bytes: ownCopy(bytes), names }; // kept: a view would hold the read chunk
  const kept = spans.get(fp);
  if (kept === undefined) spans.set(fp, [span]);
  else kept.push(span);
  spanCount++;
  spanBytes += bytes.length;
  return names;
}

/** What scan() read, by tag (every tag read here is under 64): text fields (last one wins, as protobuf) and each names run's byte span. */
interface Scanned {
  readonly texts: (string | undefined)[];
  readonly from: Int32Array;
  readonly to: Int32Array;
}

/** The fields one request type is read for: tag → 1 text, 2 names run. */
interface Fields {
  readonly kind: Uint8Array;
  readonly tags: readonly number[];
}

function fields(textTags: readonly number[], spanTags: readonly number[]): Fields {
  const kind = new Uint8Array(64);
  for (const t of textTags) kind[t] = 1;
  for (const t of spanTags) kind[t] = 2;
  return { kind, tags: [...textTags, ...spanTags] };
}

// Decoding is synchronous: one scratch and one cursor, reused (an ACK allocates neither).
const scratch: Scanned = { texts: new Array<string | undefined>(64).fill(undefined), from: new Int32Array(64), to: new Int32Array(64) };
const cursor = { pos: 0 };

/**
 * Walks a request whose fields are all strings: text tags read as UTF-8, names tags (repeated
 * names) kept as one contiguous run of bytes each. Undefined for any other field, names
 * interleaved with other fields, bad UTF-8 or malformed bytes: protobuf-es decides.
 */
function scan(buf: Buffer, f: Fields): Scanned | undefined {
  const { texts: got, from, to } = scratch;
  for (const t of f.tags) {
    got[t] = undefined;
    from[t] = -1;
  }
  const at = cursor;
  at.pos = 0;
  while (at.pos < buf.length) {
    const tag = varint(buf, at);
    const kind = tag >= 0 && tag < 64 ? f.kind[tag]! : 0;
    if (kind === 0) return undefined;
    const tagAt = at.pos - 1;
    const len = varint(buf, at);
    if (len < 0 || at.pos + len > buf.length) return undefined;
    const start = at.pos;
    at.pos += len;
    if (kind === 2) {
      // The rest of the run in one tight loop (a SotW ACK names 100 resources): each entry is
      // the tag (one byte: every tag here is under 64) and a length-prefixed name.
      while (at.pos < buf.length && buf[at.pos] === tag) {
        at.pos++;
        const n = varint(buf, at);
        if (n < 0 || at.pos + n > buf.length) return undefined;
        at.pos += n;
      }
      if (from[tag] === -1) from[tag] = tagAt;
      else if (to[tag] !== tagAt) return undefined; // names interleaved with other fields
      to[tag] = at.pos;
      continue;
    }
    const s = text(buf, start, at.pos);
    if (s === undefined) return undefined;
    got[tag] = s;
  }
  return scratch;
}

/** The shared names array of the run with `tag` ([] when absent); undefined if a name is not UTF-8. */
function namesAt(buf: Buffer, scanned: Scanned, tag: number): readonly string[] | undefined {
  return scanned.from[tag] === -1 ? NO_NAMES : namesOf(buf, scanned.from[tag]!, scanned.to[tag]!);
}

const NO_NAMES: readonly string[] = Object.freeze([]);
// Shared and frozen: the fields protobuf-es would set to a fresh empty value (nothing writes them).
const NO_LOCATORS = Object.freeze([]) as unknown as [];
const NO_VERSIONS = Object.freeze({}) as Record<string, string>;

const SOTW = fields([TAG_VERSION, TAG_TYPE, TAG_NONCE], [TAG_NAMES]);

/** The short path: undefined when the request needs protobuf-es. */
function shortDecode(buf: Buffer): DiscoveryRequest | undefined {
  const scanned = scan(buf, SOTW);
  if (scanned === undefined) return undefined;
  const resourceNames = namesAt(buf, scanned, TAG_NAMES);
  if (resourceNames === undefined) return undefined;
  // The fields protobuf-es would set, at their defaults; resourceNames is shared and frozen.
  return {
    $typeName: 'envoy.service.discovery.v3.DiscoveryRequest',
    versionInfo: scanned.texts[TAG_VERSION] ?? '',
    node: undefined,
    resourceNames: resourceNames as string[],
    resourceLocators: NO_LOCATORS,
    typeUrl: scanned.texts[TAG_TYPE] ?? '',
    responseNonce: scanned.texts[TAG_NONCE] ?? '',
    errorDetail: undefined,
  };
}

// DeltaDiscoveryRequest: type_url 2, resource_names_subscribe 3, resource_names_unsubscribe 4,
// response_nonce 6. A Delta ACK carries only type and nonce; a stream's first request of a type
// subscribes to names every proxy of its group names alike (shared arrays, as above, so
// xds/protocol/delta.ts can memoise the subscription on them). A node, initial versions, an error
// or resource locators go to protobuf-es.
const D_TYPE = (2 << 3) | 2;
const D_SUBSCRIBE = (3 << 3) | 2;
const D_UNSUBSCRIBE = (4 << 3) | 2;
const D_NONCE = (6 << 3) | 2;
const DELTA = fields([D_TYPE, D_NONCE], [D_SUBSCRIBE, D_UNSUBSCRIBE]);

function shortDecodeDelta(buf: Buffer): DeltaDiscoveryRequest | undefined {
  const scanned = scan(buf, DELTA);
  if (scanned === undefined) return undefined;
  const subscribe = namesAt(buf, scanned, D_SUBSCRIBE);
  const unsubscribe = namesAt(buf, scanned, D_UNSUBSCRIBE);
  if (subscribe === undefined || unsubscribe === undefined) return undefined;
  return {
    $typeName: 'envoy.service.discovery.v3.DeltaDiscoveryRequest',
    node: undefined,
    typeUrl: scanned.texts[D_TYPE] ?? '',
    resourceNamesSubscribe: subscribe as string[],
    resourceNamesUnsubscribe: unsubscribe as string[],
    resourceLocatorsSubscribe: NO_LOCATORS,
    resourceLocatorsUnsubscribe: NO_LOCATORS,
    initialResourceVersions: NO_VERSIONS,
    responseNonce: scanned.texts[D_NONCE] ?? '',
    errorDetail: undefined,
  };
}

/** DeltaDiscoveryRequest from the wire, as decodeDiscoveryRequest does for SotW. */
export function decodeDeltaDiscoveryRequest(buf: Buffer): DeltaDiscoveryRequest {
  const short = ackShortPath.enabled ? shortDecodeDelta(buf) : undefined;
  if (short !== undefined) {
    requestDecodes.short++;
    return short;
  }
  requestDecodes.full++;
  return fromBinary(DeltaDiscoveryRequestSchema, buf);
}

/** DiscoveryRequest from the wire: the short path when it suffices, protobuf-es otherwise (which throws on malformed input). */
export function decodeDiscoveryRequest(buf: Buffer): DiscoveryRequest {
  const short = ackShortPath.enabled ? shortDecode(buf) : undefined;
  if (short !== undefined) {
    requestDecodes.short++;
    return short;
  }
  requestDecodes.full++;
  return fromBinary(DiscoveryRequestSchema, buf);
}
