// A Clock the test advances by hand, for one component in a test whose other parts (TLS
// servers, gRPC, fastify) need real timers, so vi.useFakeTimers() is not an option there.
// `advance(ms)` runs every timer that falls due, in order; time never moves on its own.
import { sleepOn, type Clock, type Timer } from '../../src/base/clock.ts';

interface Pending {
  readonly at: number;
  readonly fn: () => void;
}

export class ManualClock implements Clock {
  #wall: number;
  #mono = 0;
  #seq = 0;
  readonly #timers = new Map<number, Pending>();

  constructor(start = Date.now()) {
    this.#wall = start;
  }

  now(): number {
    return this.#wall;
  }

  monotonic(): number {
    return this.#mono;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#mono + Math.max(0, ms), fn });
    return { id, unref: () => {}, ref: () => {} } as unknown as Timer;
  }

  clearTimeout(timer: Timer | undefined): void {
    if (timer !== undefined) this.#timers.delete((timer as unknown as { id: number }).id);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing what falls due (timers a callback sets included). */
  advance(ms: number): void {
    const end = this.#mono + ms;
    for (;;) {
      const next = [...this.#timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#wall += next[1].at - this.#mono;
      this.#mono = next[1].at;
      next[1].fn();
    }
    this.#wall += end - this.#mono;
    this.#mono = end;
  }
}
