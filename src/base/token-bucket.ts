// A token bucket: `take()` resolves when a token is available, so a burst of writes is
// spread out at `perSecond` after the first `burst`.
import { setTimeout as sleep } from 'node:timers/promises';

export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #last = performance.now();

  constructor(perSecond: number, burst: number) {
    this.#rate = perSecond / 1000;
    this.#burst = Math.max(1, burst);
    this.#tokens = this.#burst;
  }

  async take(): Promise<void> {
    for (;;) {
      const now = performance.now();
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) * this.#rate);
      this.#last = now;
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await sleep(Math.ceil((1 - this.#tokens) / this.#rate));
    }
  }
}
