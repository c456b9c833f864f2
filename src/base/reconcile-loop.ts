// A single-flight reconcile loop: `trigger()` starts a pass now or, while one runs, exactly
// one more right after it — any number of triggers during a pass coalesce into that rerun.
// Passes are level-triggered (each reads the world as it is), so one rerun covers every
// trigger it absorbed. An optional period re-triggers as a safety net for missed events.
import { systemClock, type Clock, type Timer } from './clock.ts';

export interface ReconcileLoopOptions {
  /** One level-triggered pass. */
  readonly pass: () => Promise<void>;
  /** A pass threw: report it; the loop goes on with the next trigger. */
  readonly onError: (err: unknown) => void;
  /** Re-trigger this often after start() (default: never). */
  readonly intervalMs?: number;
  readonly clock?: Clock;
}

export class ReconcileLoop {
  readonly #o: ReconcileLoopOptions;
  readonly #clock: Clock;
  #timer: Timer | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(opts: ReconcileLoopOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  /** A pass now, then one every intervalMs. */
  start(): void {
    void this.trigger();
    this.#arm();
  }

  /** Resolves when a pass that started after this call has finished (never rejects). */
  trigger(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        try {
          await this.#o.pass();
        } catch (err) {
          this.#o.onError(err);
        }
      } while (this.#again && !this.#stopped);
    })().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** True after stop(): passes should give up early. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** No new passes; resolves when the running one finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clock.clearTimeout(this.#timer);
    await this.#running;
  }

  #arm(): void {
    if (this.#o.intervalMs === undefined || this.#stopped) return;
    this.#timer = this.#clock.setTimeout(() => {
      void this.trigger();
      this.#arm();
    }, this.#o.intervalMs);
    this.#timer.unref?.();
  }
}
