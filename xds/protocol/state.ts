// A stream's xDS protocol state as a value, and what the reducers return. The reducers
// (sotw.ts, delta.ts, ack.ts) take a state and one input (a request, a snapshot to push,
// a response written) and return the next state plus what the stream must do: write these
// responses, log and count these events. No sockets, no timers: time comes in as numbers.
import { pushOrder, type TypeUrl } from '../resources/type-urls.ts';
import type { EncodedResource } from '../snapshot/types.ts';
import { noSubscription, type Known, type Subscription, type View } from './views.ts';

export interface NackRecord {
  readonly nonce: string;
  readonly version: string;
  readonly message: string;
  readonly at: string;
}

/** A response written and not answered yet. */
export interface Unanswered {
  readonly nonce: string;
  readonly version: string;
}

/** Per type URL. H: what a client holds (SotW keeps the resources, for make-before-break unions). */
export interface TypeState<H extends Known = Known> {
  readonly sub: Subscription;
  /** The client named resources at least once: an empty list no longer means wildcard. */
  readonly explicit: boolean;
  /** The latest response's nonce and version ('' before the first). */
  readonly nonce: string;
  readonly versionSent: string;
  readonly versionAcked: string;
  /** When `nonce` was written, on the caller's clock (for the ACK latency). */
  readonly sentAt: number;
  /** The response with `nonce` waits for its ACK/NACK. */
  readonly awaiting: boolean;
  /** Batch (one push, one answer) that wrote `nonce`, and its earlier unanswered responses of this type. */
  readonly batch?: number;
  readonly earlier?: readonly Unanswered[];
  readonly lastNack?: NackRecord;
  /**
   * The content last planned for this subscription. Only a different one is pushed again,
   * so a NACKed config is never re-sent as is (no loop).
   */
  readonly sent?: View;
  /**
   * What the client is believed to hold: the diff basis. Optimistic (what was last sent);
   * after a NACK, back to what it last ACKed, so the next new content re-sends everything
   * the rejected response carried (the client may have applied none of it).
   */
  readonly basis?: H;
  /** What the client holds once the latest response is accepted, and once it was. */
  readonly pending?: H;
  readonly acked?: H;
  /** Delta: names to answer even if the client seems to hold them (re-subscribed). */
  readonly forced?: ReadonlySet<string>;
  /** Delta: answer even with nothing to send (the first wildcard request completes the client's init). */
  readonly mustRespond?: boolean;
}

const slotOf = new Map(pushOrder.map((t, i) => [t, i]));

/** Per-type states, a slot per row of the ResourceType table: a new one copies five references. */
export class TypeStates<H extends Known = Known> {
  readonly #slots: readonly (TypeState<H> | undefined)[];

  constructor(slots: readonly (TypeState<H> | undefined)[] = []) {
    this.#slots = slots;
  }

  get(typeUrl: TypeUrl): TypeState<H> | undefined {
    return this.#slots[slotOf.get(typeUrl)!];
  }

  has(typeUrl: TypeUrl): boolean {
    return this.get(typeUrl) !== undefined;
  }

  with(typeUrl: TypeUrl, st: TypeState<H>): TypeStates<H> {
    const slots = [...this.#slots];
    slots[slotOf.get(typeUrl)!] = st;
    return new TypeStates(slots);
  }
}

export interface StreamState<H extends Known = Known> {
  readonly types: TypeStates<H>;
  /** Counts plans (a push, an answer): responses of one plan share a batch. */
  readonly batch: number;
  /** Delta: names a type's answer outside a push made resendable (CLAs of changed clusters), for a subscription not made yet. */
  readonly owed: ReadonlyMap<TypeUrl, ReadonlySet<string>>;
}

export const emptyStream: StreamState<never> = { types: new TypeStates<never>(), batch: 0, owed: new Map() };

export function newTypeState<H extends Known>(): TypeState<H> {
  return { sub: noSubscription, explicit: false, nonce: '', versionSent: '', versionAcked: '', sentAt: 0, awaiting: false };
}

export function withType<H extends Known>(state: StreamState<H>, typeUrl: TypeUrl, st: TypeState<H>): StreamState<H> {
  return state.types.get(typeUrl) === st ? state : { ...state, types: state.types.with(typeUrl, st) };
}

/** A response to write. Its body is shared by every stream sending the same content. */
export interface Response {
  readonly typeUrl: TypeUrl;
  /** What the client holds for this type once it accepts the response; its version is the response's. */
  readonly holds: View;
  /** The resources it carries (a view's own map when it carries the whole view: no copy). */
  readonly resources: readonly EncodedResource[] | ReadonlyMap<string, EncodedResource>;
  /** Delta: names the client must drop (or that do not exist). */
  readonly removed: readonly string[];
  /** Encode once per (owner, key): owner is a shared view or diff; absent: encode for this stream only. */
  readonly memo?: { readonly owner: object; readonly key: string };
}

export function resourcesOf(r: Response): Iterable<EncodedResource> {
  return Array.isArray(r.resources) ? r.resources : (r.resources as ReadonlyMap<string, EncodedResource>).values();
}

export function resourceCount(r: Response): number {
  return Array.isArray(r.resources) ? r.resources.length : (r.resources as ReadonlyMap<string, EncodedResource>).size;
}

export type ProtocolEvent =
  | { readonly kind: 'ack'; readonly typeUrl: TypeUrl; readonly nonce: string; readonly version: string; readonly sentAt: number }
  | {
      readonly kind: 'nack';
      readonly typeUrl: TypeUrl;
      readonly nonce: string;
      readonly version: string;
      readonly message: string;
      /** Set when the NACK answers the latest response (its latency is measured). */
      readonly sentAt?: number;
    }
  | { readonly kind: 'stale'; readonly typeUrl: TypeUrl; readonly nonce: string; readonly latest: string };

/** What a reducer returns: the next state, events to log/count, responses to write in order. */
export interface Step<H extends Known = Known> {
  readonly state: StreamState<H>;
  readonly events: readonly ProtocolEvent[];
  readonly responses: readonly Response[];
}

/** What a request reducer returns: the next state, events, and the type to answer now (if any). */
export interface RequestStep<H extends Known = Known> {
  readonly state: StreamState<H>;
  readonly events: readonly ProtocolEvent[];
  /** The type whose subscription must be answered now (when a snapshot exists). */
  readonly answer?: TypeUrl;
}
