// A stream without a socket for the protocol reducers' table tests: snapshots from one-line
// specs, requests in, responses out as one-line summaries, nonces 1, 2, 3… per stream.
//
//   world('cds a@1 b@1 | eds a@1')   clusters a and b (content version 1), the CLA of a;
//                                    every cluster is EDS and waits for the CLA of its name
//   'cds#2 a@2 n@1 -b'               response with nonce 2: resources a (v2) and n (v1), b removed
import { responseSent } from '../../xds/protocol/ack.ts';
import { deltaAnswer, deltaPush, deltaRequest, type DeltaRequest, type DeltaState } from '../../xds/protocol/delta.ts';
import { sotwAnswer, sotwPush, sotwRequest, type SotwRequest, type SotwState } from '../../xds/protocol/sotw.ts';
import { emptyStream, resourcesOf, type ProtocolEvent, type RequestStep, type Step, type StreamState, type TypeState } from '../../xds/protocol/state.ts';
import type { Known } from '../../xds/protocol/views.ts';
import { resourceTypes, typeOf, type TypeUrl } from '../../xds/resources/type-urls.ts';
import { hashStrings } from '../../xds/snapshot/hash.ts';
import type { CachedSnapshot, EncodedResource } from '../../xds/snapshot/types.ts';

const byLabel = new Map(resourceTypes.map((t) => [t.label as string, t.typeUrl]));

export function url(label: string): TypeUrl {
  const t = byLabel.get(label);
  if (t === undefined) throw new Error(`unknown type label ${label}`);
  return t;
}

/** Interned per (type, name, version), as the snapshot cache shares encodings. */
const resources = new Map<string, EncodedResource>();

function resource(typeUrl: TypeUrl, spec: string): EncodedResource {
  const [name, version = '1'] = spec.split('@') as [string, string?];
  const key = `${typeUrl}|${name}|${version}`;
  let r = resources.get(key);
  if (r === undefined) resources.set(key, (r = { name, typeUrl, bytes: new Uint8Array(), version }));
  return r;
}

export function world(spec: string): CachedSnapshot {
  const byType = new Map<TypeUrl, Map<string, EncodedResource>>(resourceTypes.map((t) => [t.typeUrl, new Map()]));
  for (const part of spec.split('|')) {
    const [label, ...items] = part.trim().split(/\s+/);
    if (label === undefined || label === '') continue;
    const map = byType.get(url(label))!;
    for (const item of items) map.set(resource(url(label), item).name, resource(url(label), item));
  }
  const typeVersions = new Map([...byType].map(([t, m]) => [t, hashStrings([...m.values()].map((r) => `${r.name}@${r.version}`))]));
  const edsNames = new Map([...byType.get(url('cds'))!.keys()].map((n) => [n, n]));
  return { version: hashStrings([...typeVersions.values()]), resources: byType, typeVersions, edsNames, modelVersion: 'test' };
}

type Names = { readonly names?: readonly string[] };

/** Drives one stream's state through the reducers, as xds/server/stream.ts does. */
const sharedArrays = new Map<string, readonly string[]>();

abstract class Driver<H extends Known, Req> {
  /**
   * Names arrays as the server's decoder hands them over: frozen and shared by every request
   * with the same bytes (xds/server/request-decode.ts), which takes the reducers' memoised paths.
   */
  sharedNames = false;

  protected names(names: readonly string[] | undefined): readonly string[] {
    if (names === undefined || !this.sharedNames) return names ?? [];
    const key = JSON.stringify(names);
    let shared = sharedArrays.get(key);
    if (shared === undefined) sharedArrays.set(key, (shared = Object.freeze([...names])));
    return shared;
  }

  state: StreamState<H> = emptyStream;
  snap: CachedSnapshot | undefined;
  events: ProtocolEvent[] = [];
  #nonce = 0;
  /** Wall clock handed to the reducers. */
  now = Date.parse('2026-12-06T00:00:00Z');

  constructor(snap?: CachedSnapshot) {
    this.snap = snap;
  }

  protected abstract reduce(req: Req): RequestStep<H>;
  protected abstract answer(typeUrl: TypeUrl, snap: CachedSnapshot): Step<H>;
  protected abstract pushed(snap: CachedSnapshot): Step<H>;

  protected send(req: Req): string[] {
    const step = this.reduce(req);
    this.state = step.state;
    this.events.push(...step.events);
    if (step.answer === undefined || this.snap === undefined) return [];
    return this.#write(this.answer(step.answer, this.snap));
  }

  /** A new snapshot: the push's responses. */
  push(snap: CachedSnapshot): string[] {
    this.snap = snap;
    return this.#write(this.pushed(snap));
  }

  type(label: string): TypeState<H> {
    return this.state.types.get(url(label))!;
  }

  #write(step: Step<H>): string[] {
    this.state = step.state;
    this.events.push(...step.events);
    return step.responses.map((r) => {
      const nonce = String(++this.#nonce);
      this.state = responseSent(this.state, r, nonce, this.#nonce);
      const names = [...resourcesOf(r)].map((x) => `${x.name}@${x.version}`);
      return [`${typeOf(r.typeUrl).label}#${nonce}`, ...names, ...r.removed.map((n) => `-${n}`)].join(' ');
    });
  }
}

export class SotwDriver extends Driver<ReadonlyMap<string, EncodedResource>, Omit<SotwRequest, 'now'>> {
  protected reduce(req: Omit<SotwRequest, 'now'>) {
    return sotwRequest(this.state as SotwState, { ...req, now: this.now });
  }
  protected answer(typeUrl: TypeUrl, snap: CachedSnapshot) {
    return sotwAnswer(this.state as SotwState, typeUrl, snap);
  }
  protected pushed(snap: CachedSnapshot) {
    return sotwPush(this.state as SotwState, snap);
  }

  /** A request naming `names` (none: wildcard for CDS/LDS), answering `nonce` ('' for a first or repeated initial request). */
  request(label: string, opts: Names & { nonce?: string; version?: string; error?: string } = {}): string[] {
    const st = this.state.types.get(url(label));
    return this.send({
      typeUrl: url(label),
      responseNonce: opts.nonce ?? '',
      versionInfo: opts.version ?? (opts.nonce !== undefined ? (st?.versionSent ?? '') : ''),
      resourceNames: this.names(opts.names),
      error: opts.error,
    });
  }

  /** ACK of the response with `nonce`, repeating the subscription's names. */
  ack(label: string, nonce: string, names?: readonly string[]): string[] {
    return this.request(label, { nonce, names: names ?? this.#names(label) });
  }

  nack(label: string, nonce: string, error: string, names?: readonly string[]): string[] {
    const st = this.type(label);
    return this.request(label, { nonce, names: names ?? this.#names(label), error, version: st.versionAcked });
  }

  #names(label: string): string[] {
    const sub = this.type(label).sub;
    return sub.wildcard ? (sub.names.size > 0 ? ['*', ...sub.names] : []) : [...sub.names];
  }
}

export class DeltaDriver extends Driver<Known, Omit<DeltaRequest, 'now'>> {
  protected reduce(req: Omit<DeltaRequest, 'now'>) {
    return deltaRequest(this.state as DeltaState, { ...req, now: this.now });
  }
  protected answer(typeUrl: TypeUrl, snap: CachedSnapshot) {
    return deltaAnswer(this.state as DeltaState, typeUrl, snap);
  }
  protected pushed(snap: CachedSnapshot) {
    return deltaPush(this.state as DeltaState, snap);
  }

  request(
    label: string,
    opts: { subscribe?: readonly string[]; unsubscribe?: readonly string[]; initial?: Record<string, string>; nonce?: string; error?: string } = {},
  ): string[] {
    return this.send({
      typeUrl: url(label),
      responseNonce: opts.nonce ?? '',
      subscribe: this.names(opts.subscribe),
      unsubscribe: this.names(opts.unsubscribe),
      initialVersions: opts.initial ?? {},
      error: opts.error,
    });
  }

  ack(label: string, nonce: string): string[] {
    return this.request(label, { nonce });
  }

  nack(label: string, nonce: string, error: string): string[] {
    return this.request(label, { nonce, error });
  }
}

/** `a@1 b@2` → what a client holding those versions holds. */
export function held(known: Known | undefined): string {
  return [...(known ?? new Map<string, { version: string }>())]
    .map(([n, { version }]) => `${n}@${version}`)
    .sort()
    .join(' ');
}
