import { describe, expect, it } from 'vitest';
import { ownCopy } from '../../src/base/own-copy.ts';

describe('ownCopy', () => {
  it('copies the bytes into memory holding nothing else: neither the source chunk nor a pool slab', () => {
    const chunk = Buffer.from('....nonce-7....');
    const view = chunk.subarray(4, 11);
    const copy = ownCopy(view);
    expect(copy.toString()).toBe('nonce-7');
    expect(copy.buffer).not.toBe(chunk.buffer);
    expect(copy.byteOffset).toBe(0);
    expect(copy.buffer.byteLength).toBe(7); // Buffer.from(view) would sit in Node's 8 KB pool
    chunk.fill(0);
    expect(copy.toString()).toBe('nonce-7');
  });
});
