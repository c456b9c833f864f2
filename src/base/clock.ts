// Time as an input. Every timer, sleep and timestamp of Weft's loops (debounce, reconcile,
// certificate rotation, leader election, token bucket) goes through a Clock, so time is
// something a test can own.
//
// The system clock reads the globals (Date.now, performance.now, setTimeout, clearTimeout)
// at every call, never a copy taken at import. vitest's `vi.useFakeTimers()` replaces exactly
// those globals, so a test that installs fake timers drives every component built with the
// default clock — nothing has to be passed in — and `vi.advanceTimersByTimeAsync(ms)` moves
// wall and monotonic time together. (`node:timers/promises` is not faked: sleep through
// `clock.sleep`, never through it.) A component still takes a `clock` option, for callers
// that want their own notion of time without touching globals.

export type Timer = ReturnType<typeof setTimeout>;

export interface Clock {
  /** Wall-clock milliseconds since the epoch: timestamps and certificate validity. */
  now(): number;
  /** Monotonic milliseconds from an arbitrary origin: durations, deadlines, rates (immune to clock steps). */
  monotonic(): number;
  /** Runs `fn` after `ms`, clamped to [0, MAX_TIMER_MS]: a longer wait must re-check the time and re-arm. */
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer | undefined): void;
  /** Resolves after `ms`; rejects with the signal's reason if it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** setTimeout's ceiling (~24.8 days): Node fires a longer delay after 1 ms, with a warning. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const clamp = (ms: number): number => Math.min(Math.max(0, Number.isFinite(ms) ? ms : MAX_TIMER_MS), MAX_TIMER_MS);

/** `clock.sleep` for any clock: a timer, cancelled by the signal. */
export function sleepOn(clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, clamp(ms)),
  clearTimeout: (timer) => clearTimeout(timer),
  sleep: (ms, signal) => sleepOn(systemClock, ms, signal),
};
