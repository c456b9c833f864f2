// WriteQueue's stall bound (xds/server/limits.ts): bytes that stop leaving for stallMs end the
// stream; bytes that keep leaving never do, however long the queue stays non-empty. One timer
// per stream while bytes are out, re-armed when it wakes (not one per write).
import { describe, expect, it } from 'vitest';
import { QueueBudget, WriteQueue } from '../../xds/server/limits.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function queue(stallMs: number): { q: WriteQueue; stalls: () => number; budget: QueueBudget } {
  let stalls = 0;
  const budget = new QueueBudget(1 << 30);
  const q = new WriteQueue(
    1 << 20,
    budget,
    stallMs,
    () => {},
    () => stalls++,
  );
  return { q, stalls: () => stalls, budget };
}

describe('write queue stall bound', () => {
  it('calls a stream stalled when its bytes stop leaving', async () => {
    const { q, stalls } = queue(60);
    q.wrote(100);
    await sleep(30);
    expect(stalls()).toBe(0);
    await sleep(80);
    expect(stalls()).toBe(1);
    q.close();
  });

  it('never while bytes keep leaving, and not after the queue empties', async () => {
    const { q, stalls, budget } = queue(60);
    let done = q.wrote(100);
    for (let i = 0; i < 8; i++) {
      await sleep(25); // the queue is never empty, but something leaves every 25 ms
      const next = q.wrote(100);
      done();
      done = next;
    }
    expect(stalls()).toBe(0);
    done();
    expect([q.queued, budget.total]).toEqual([0, 0]);
    await sleep(150);
    expect(stalls()).toBe(0);
  });

  it('measures quiet time from the first byte queued after an empty spell', async () => {
    const { q, stalls } = queue(60);
    q.wrote(10)();
    await sleep(100); // empty and quiet: not a stall, and not counted against the next write
    q.wrote(10);
    await sleep(30);
    expect(stalls()).toBe(0);
    await sleep(80);
    expect(stalls()).toBe(1);
    q.close();
  });
});
