// A token bucket: `take()` resolves when a token is available, so a burst of writes is
// spread out at `perSecond` after the first `burst`.
import { systemClock, type Clock } from './clock.ts';

export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(perSecond: number, burst: number, clock: Clock = systemClock) {
    this.#rate = perSecond / 1000;
    this.#burst = Math.max(1, burst);
    this.#clock = clock;
    this.#tokens = this.#burst;
    this.#last = clock.monotonic();
  }

  async take(): Promise<void> {
    for (;;) {
      const now = this.#clock.monotonic();
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) * this.#rate);
      this.#last = now;
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await this.#clock.sleep(Math.ceil((1 - this.#tokens) / this.#rate));
    }
  }
}
