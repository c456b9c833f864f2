// Coalesces a burst of triggers into one call: `fire` runs `holdoffMs` after the last
// trigger, but never later than `maxDelayMs` after the first one, so a steady stream of
// changes cannot postpone it forever (Contour's holdoff 100 ms / max 500 ms; Istio's
// debounceAfter / debounceMax). Weft debounces once per change, where the whole state is
// rebuilt (the config sources); pushes to proxies follow without a second holdoff.
import { systemClock, type Clock, type Timer } from './clock.ts';

export interface DebounceOptions {
  readonly holdoffMs: number;
  readonly maxDelayMs: number;
  readonly clock?: Clock;
}

export class Debouncer {
  readonly #holdoffMs: number;
  readonly #maxDelayMs: number;
  readonly #clock: Clock;
  readonly #fire: () => void;
  #timer: Timer | undefined;
  #firstAt = 0;
  /** When the pending fire is due (monotonic ms): a trigger moves it, the timer catches up when it wakes. */
  #due = 0;

  constructor(opts: DebounceOptions, fire: () => void) {
    this.#holdoffMs = opts.holdoffMs;
    this.#maxDelayMs = opts.maxDelayMs;
    this.#clock = opts.clock ?? systemClock;
    this.#fire = fire;
  }

  trigger(): void {
    const now = this.#clock.monotonic();
    if (this.#timer === undefined) this.#firstAt = now;
    this.#due = Math.min(now + this.#holdoffMs, this.#firstAt + this.#maxDelayMs);
    // A pending timer is not re-armed on every trigger (10,000 streams marked dirty by one
    // change each trigger the push debounce: re-arming cost more than the pushes' planning);
    // it re-arms itself for the rest when it wakes before the due time moved on.
    if (this.#timer === undefined) this.#arm(now);
  }

  #arm(now: number): void {
    this.#timer = this.#clock.setTimeout(() => {
      const at = this.#clock.monotonic();
      if (at < this.#due) return this.#arm(at);
      this.#timer = undefined;
      this.#fire();
    }, this.#due - now);
  }

  /** A trigger is waiting to fire. */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  cancel(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
