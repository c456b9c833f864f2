// ACK/NACK bookkeeping and nonces. A request answers a response by its nonce: the latest
// one (an ACK or a NACK), an earlier one of the same batch (a push may send two responses of
// a type: additions then removals, or the make-before-break phases), or a superseded one
// (stale: the client will answer the newer response too).
import type { TypeUrl } from '../resources/type-urls.ts';
import type { Known } from './views.ts';
import { withType, type ProtocolEvent, type Response, type StreamState, type TypeState } from './state.ts';

/** A NACK's error_detail is the client's text, as long as a request may be: kept and logged in part. */
export const NACK_MESSAGE_MAX = 4096;

export function nackMessage(m: string): string {
  return m.length <= NACK_MESSAGE_MAX ? m : `${m.slice(0, NACK_MESSAGE_MAX)}… (${m.length - NACK_MESSAGE_MAX} more characters)`;
}

/** What a request says about the response its nonce names. */
export interface Answer {
  readonly nonce: string;
  /** error_detail.message of a NACK; undefined for an ACK. */
  readonly error?: string | undefined;
  /** The version the client reports it now holds (SotW version_info). */
  readonly version: string;
  /** Wall-clock time of the request (epoch ms), recorded with a NACK. */
  readonly now: number;
}

export interface Answered<H extends Known> {
  readonly st: TypeState<H>;
  readonly event?: ProtocolEvent;
}

/**
 * An answer to `st.nonce`. Only the first counts: a later request re-using the nonce (a
 * subscription change) is not a new answer. After a NACK the diff basis goes back to what
 * the client last ACKed.
 */
export function answerLatest<H extends Known>(typeUrl: TypeUrl, st: TypeState<H>, a: Answer): Answered<H> {
  if (!st.awaiting) return { st };
  const { nonce, versionSent: version, sentAt } = st;
  if (a.error !== undefined) {
    const message = nackMessage(a.error);
    const lastNack = { nonce, version, message, at: new Date(a.now).toISOString() };
    return { st: { ...st, awaiting: false, lastNack, basis: st.acked }, event: { kind: 'nack', typeUrl, nonce, version, message, sentAt } };
  }
  return { st: { ...st, awaiting: false, versionAcked: a.version, acked: st.pending }, event: { kind: 'ack', typeUrl, nonce, version: a.version, sentAt } };
}

/**
 * An answer to another nonce: a NACK of a response that a later one of the same batch
 * followed is still a NACK; anything else is stale and changes nothing.
 */
export function answerEarlier<H extends Known>(typeUrl: TypeUrl, st: TypeState<H>, a: Answer): Answered<H> {
  const earlier = st.earlier?.find((e) => e.nonce === a.nonce);
  const stale: ProtocolEvent = { kind: 'stale', typeUrl, nonce: a.nonce, latest: st.nonce };
  if (earlier === undefined) return { st, event: stale };
  const rest = st.earlier!.filter((e) => e !== earlier);
  if (a.error === undefined) return { st: { ...st, earlier: rest }, event: stale };
  const message = nackMessage(a.error);
  const lastNack = { nonce: a.nonce, version: earlier.version, message, at: new Date(a.now).toISOString() };
  return {
    st: { ...st, earlier: rest, lastNack, basis: st.acked },
    event: { kind: 'nack', typeUrl, nonce: a.nonce, version: earlier.version, message },
  };
}

/**
 * A response was written with `nonce` at `at` (the caller's clock): it is now the one to
 * answer, and the client is assumed to hold what it carries. An unanswered response of the
 * same batch stays answerable (answerEarlier).
 */
export function responseSent<H extends Known>(state: StreamState<H>, r: Response, nonce: string, at: number): StreamState<H> {
  const st = state.types.get(r.typeUrl);
  if (st === undefined) return state;
  const earlier = st.batch === state.batch && st.awaiting ? [...(st.earlier ?? []), { nonce: st.nonce, version: st.versionSent }] : [];
  const holds = r.holds.resources as unknown as H; // SotW holds resources, Delta name → version: a view's map is both
  return withType(state, r.typeUrl, {
    ...st,
    batch: state.batch,
    earlier,
    nonce,
    versionSent: r.holds.version,
    sentAt: at,
    awaiting: true,
    pending: holds,
    basis: holds,
  });
}

/**
 * Whether a shared response's nonce may be used on a stream whose latest nonce for the type
 * is `latest` (or ''): nonces come from one increasing base-36 sequence and a stream's must
 * only increase, so none repeats (X → Y → X gets a fresh nonce for the second X).
 */
export function nonceUsable(nonce: string, latest: string): boolean {
  return latest === '' || parseInt(nonce, 36) > parseInt(latest, 36);
}
