// Coalesces bursts of model changes into one push: fire `holdoffMs` after the last trigger,
// but never later than `maxDelayMs` after the first one, so a steady stream of changes
// cannot starve proxies of updates.
export interface DebounceOptions {
  readonly holdoffMs: number;
  readonly maxDelayMs: number;
}

export class Debouncer {
  readonly #opts: DebounceOptions;
  readonly #fire: () => void;
  #timer: NodeJS.Timeout | undefined;
  #firstAt = 0;

  constructor(opts: DebounceOptions, fire: () => void) {
    this.#opts = opts;
    this.#fire = fire;
  }

  trigger(): void {
    const now = Date.now();
    if (this.#timer === undefined) this.#firstAt = now;
    else clearTimeout(this.#timer);
    const due = Math.min(now + this.#opts.holdoffMs, this.#firstAt + this.#opts.maxDelayMs);
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#fire();
      },
      Math.max(0, due - now),
    );
  }

  get pending(): boolean {
    return this.#timer !== undefined;
  }

  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
