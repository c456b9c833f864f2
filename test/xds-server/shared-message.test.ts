// Shared response messages: one per body while its nonce is new to the stream; a stream that
// already used a newer nonce gets a fresh one, shared in turn by the streams that follow.
import { describe, expect, it } from 'vitest';
import { sharedMessage } from '../../xds/server/responses.ts';

describe('sharedMessage', () => {
  it('re-nonces a body for a stream past its nonce, once for every such stream', () => {
    let seq = 0;
    const next = () => (++seq).toString(36);
    const x = new Uint8Array([1]);
    const y = new Uint8Array([2]);
    const first = sharedMessage(x, next, '');
    expect(sharedMessage(x, next, '').message).toBe(first.message);
    const later = sharedMessage(y, next, first.nonce);
    const back = sharedMessage(x, next, later.nonce);
    expect(back.nonce).not.toBe(first.nonce);
    expect(parseInt(back.nonce, 36)).toBeGreaterThan(parseInt(later.nonce, 36));
    // Another stream at the same point shares the new message.
    expect(sharedMessage(x, next, later.nonce).message).toBe(back.message);
  });
});
