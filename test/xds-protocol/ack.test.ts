// ACK/NACK bookkeeping and nonce rules, as tables over the pure functions of xds/protocol/ack.ts.
import { describe, expect, it } from 'vitest';
import { answerEarlier, answerLatest, nackMessage, nonceUsable } from '../../xds/protocol/ack.ts';
import { newTypeState, type TypeState } from '../../xds/protocol/state.ts';
import type { Known } from '../../xds/protocol/views.ts';
import { TypeUrl } from '../../xds/resources/type-urls.ts';

const known = (...pairs: string[]): Known => new Map(pairs.map((p) => p.split('@') as [string, string]).map(([n, version]) => [n, { version }]));
const acked = known('a@1');
const pending = known('a@2');
const sent: TypeState = { ...newTypeState(), nonce: '5', versionSent: 'v2', versionAcked: 'v1', sentAt: 42, awaiting: true, acked, pending, basis: pending };
const now = Date.parse('2026-12-06T10:00:00Z');

describe('nonces', () => {
  // A shared message's nonce may serve a stream only if newer than the stream's latest for
  // the type: X → Y → X must not give the second X the first X's nonce.
  it.each([
    ['1', '', true],
    ['2', '1', true],
    ['1', '1', false],
    ['1', '2', false],
    ['a', '9', true],
    ['z', '10', false],
    ['10', 'z', true],
  ])('nonce %s after %s: usable %s', (nonce, latest, usable) => expect(nonceUsable(nonce, latest)).toBe(usable));
});

describe('NACK messages', () => {
  it.each([
    ['', ''],
    ['short', 'short'],
    ['y'.repeat(4096), 'y'.repeat(4096)],
    ['y'.repeat(4097), `${'y'.repeat(4096)}… (1 more characters)`],
  ])('%#: kept up to 4096 characters', (message, kept) => expect(nackMessage(message)).toBe(kept));
});

describe('answers', () => {
  it.each([
    {
      answer: 'an ACK of the latest response',
      st: sent,
      a: { nonce: '5', version: 'v2', now },
      want: { awaiting: false, versionAcked: 'v2', acked: pending, basis: pending },
      event: { kind: 'ack', nonce: '5', version: 'v2', sentAt: 42 },
    },
    {
      answer: 'a NACK of the latest response: basis back to what was ACKed',
      st: sent,
      a: { nonce: '5', version: 'v1', error: 'bad', now },
      want: {
        awaiting: false,
        versionAcked: 'v1',
        acked,
        basis: acked,
        lastNack: { nonce: '5', version: 'v2', message: 'bad', at: '2026-12-06T10:00:00.000Z' },
      },
      event: { kind: 'nack', nonce: '5', version: 'v2', message: 'bad', sentAt: 42 },
    },
    {
      answer: 'a second answer to the same nonce: nothing',
      st: { ...sent, awaiting: false },
      a: { nonce: '5', version: 'v1', error: 'bad', now },
      want: { awaiting: false, versionAcked: 'v1', basis: pending },
      event: undefined,
    },
  ])('$answer', ({ st, a, want, event }) => {
    const r = answerLatest(TypeUrl.Cluster, st, a);
    expect(r.st).toMatchObject(want);
    if (!('lastNack' in want)) expect(r.st.lastNack).toBeUndefined();
    expect(r.event).toEqual(event === undefined ? undefined : { typeUrl: TypeUrl.Cluster, ...event });
  });

  const batch: TypeState = { ...sent, earlier: [{ nonce: '4', version: 'v1.5' }] };
  it.each([
    { answer: 'a NACK of an earlier response of the batch', a: { nonce: '4', error: 'bad' }, nack: true, earlier: [] },
    { answer: 'an ACK of an earlier response of the batch', a: { nonce: '4' }, nack: false, earlier: [] },
    { answer: 'a NACK of a response of an earlier batch (stale)', a: { nonce: '3', error: 'bad' }, nack: false, earlier: batch.earlier },
  ])('$answer', ({ a, nack, earlier }) => {
    const r = answerEarlier(TypeUrl.Cluster, batch, { ...a, version: '', now });
    expect(r.st.earlier).toEqual(earlier);
    expect(r.st.awaiting).toBe(true); // the latest response still waits for its answer
    if (nack) {
      expect(r.event).toEqual({ kind: 'nack', typeUrl: TypeUrl.Cluster, nonce: '4', version: 'v1.5', message: 'bad' });
      expect(r.st.basis).toBe(acked);
    } else {
      expect(r.event).toEqual({ kind: 'stale', typeUrl: TypeUrl.Cluster, nonce: a.nonce, latest: '5' });
      expect(r.st.basis).toBe(pending);
    }
  });
});
