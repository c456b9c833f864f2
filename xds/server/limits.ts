// What one client may cost the server, per stream and per connection: the bounds, their
// defaults (flags of `weft serve` and `weft controller`, docs/xds-limits.md), the counter
// incremented whenever one is hit, and the two pieces of stream I/O that enforce them:
// a request pacer (token bucket; reading pauses while it is empty, so the transport's flow
// control pushes back on the client) and the write queue's byte accounting (responses are
// held back, and coalesce, while a client does not read; it is disconnected if it never does).
import { Counter } from 'prom-client';
import type { Logger } from '../../src/base/log.ts';
import { metricsRegistry } from '../../src/base/metrics.ts';
import { defaultSubscriptionLimits, type SubscriptionLimits } from '../protocol/limits.ts';

const MiB = 1024 * 1024;

export interface XdsLimits extends SubscriptionLimits {
  /** Largest DiscoveryRequest accepted (gRPC receive limit). */
  readonly maxMessageBytes: number;
  /** Streams one connection may open (ADS and SDS together). */
  readonly maxStreamsPerConnection: number;
  /** Node id, cluster and metadata together, measured as characters of keys and strings. */
  readonly maxNodeBytes: number;
  /** Response bytes written to a stream and not yet taken by the transport, above which no new response is written. */
  readonly maxQueuedBytes: number;
  /** The same, all streams together: above it, a stream with unread bytes writes nothing new. */
  readonly maxQueuedBytesTotal: number;
  /** A stream whose unread responses do not move (no write completes) this long is disconnected. */
  readonly writeStallMs: number;
  /** Requests per second one stream may send on average, and in a burst. */
  readonly requestsPerSecond: number;
  readonly requestBurst: number;
  /**
   * Bytes per second of answers to one stream's requests after each type's first (pushes of
   * new config are not counted), and in a burst: a client re-subscribing to everything cannot make the server
   * re-send the mesh faster than this; its answers wait, and coalesce.
   */
  readonly answerBytesPerSecond: number;
  readonly answerBurstBytes: number;
}

export const defaultXdsLimits: XdsLimits = {
  ...defaultSubscriptionLimits,
  maxMessageBytes: 4 * MiB,
  maxStreamsPerConnection: 100,
  maxNodeBytes: 64 * 1024,
  maxQueuedBytes: 4 * MiB,
  maxQueuedBytesTotal: 256 * MiB,
  writeStallMs: 30_000,
  requestsPerSecond: 50,
  requestBurst: 200,
  answerBytesPerSecond: 2 * MiB,
  answerBurstBytes: 8 * MiB,
};

export type LimitName =
  'subscribed_names' | 'name_length' | 'node_size' | 'streams_per_connection' | 'queued_bytes' | 'write_stall' | 'request_rate' | 'answer_rate' | 'memo_full';

export const limitsHit = new Counter({
  name: 'weft_xds_limit_exceeded_total',
  help: 'Times a client hit an xDS server bound (see docs/xds-limits.md): request_rate and queued_bytes delay, memo_full encodes without caching, the others end the stream.',
  labelNames: ['limit'] as const,
  registers: [metricsRegistry],
});

export function hit(limit: LimitName): void {
  limitsHit.inc({ limit });
}

/** A token bucket read without waiting: take() says how long to wait before the next request (0: none). */
export class Pacer {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;

  constructor(perSecond: number, burst: number, now: number) {
    this.#perMs = perSecond / 1000;
    this.#burst = Math.max(1, burst);
    this.#tokens = this.#burst;
    this.#last = now;
  }

  take(now: number, n = 1): number {
    this.#refill(now);
    this.#tokens -= n;
    return this.wait(now);
  }

  /** How long until the bucket is out of debt (0: not in debt). */
  wait(now: number): number {
    this.#refill(now);
    return this.#tokens >= 0 ? 0 : Math.ceil(-this.#tokens / this.#perMs);
  }

  #refill(now: number): void {
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) * this.#perMs);
    this.#last = now;
  }
}

/** One token per request; with none left, reading pauses (HTTP/2 flow control then holds the client back). */
export class ReadPacer {
  readonly #bucket: Pacer;
  readonly #call: { pause(): unknown; resume(): unknown };
  readonly #log: () => Logger;
  readonly #perSecond: number;
  #resume: NodeJS.Timeout | undefined;
  #throttled = false;
  #closed = false;

  constructor(limits: XdsLimits, call: { pause(): unknown; resume(): unknown }, log: () => Logger, now: number) {
    this.#bucket = new Pacer(limits.requestsPerSecond, limits.requestBurst, now);
    this.#perSecond = limits.requestsPerSecond;
    this.#call = call;
    this.#log = log;
  }

  onRequest(now: number): void {
    const wait = this.#bucket.take(now);
    if (wait === 0 || this.#resume !== undefined || this.#closed) return;
    hit('request_rate');
    if (!this.#throttled) this.#log().info({ requestsPerSecond: this.#perSecond }, 'stream throttled: requests over the rate limit');
    this.#throttled = true;
    this.#call.pause();
    this.#resume = setTimeout(() => {
      this.#resume = undefined;
      if (!this.#closed) this.#call.resume();
    }, wait);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#resume);
  }
}

/** Unread response bytes of every stream of one server together. */
export class QueueBudget {
  total = 0;
  readonly max: number;
  readonly waiting = new Set<WriteQueue>();

  constructor(max: number) {
    this.max = max;
  }

  /** After a write left: wake the streams no longer blocked. */
  released(): void {
    for (const q of this.waiting) {
      if (!q.blocked) {
        this.waiting.delete(q);
        q.wake();
      }
    }
  }
}

/**
 * Bytes handed to the call and not yet taken by the transport (the write callback fires when
 * HTTP/2 flow control let them out). The stream is `blocked` while its own bytes reach
 * maxQueuedBytes, or while it has any and all streams' together reach the server's total:
 * then it writes nothing new (what it owes coalesces) and is woken when that changes. Bytes
 * that stay unread, none leaving for `stallMs`, call `onStall`.
 */
export class WriteQueue {
  queued = 0;
  readonly #max: number;
  readonly #budget: QueueBudget;
  readonly #stallMs: number;
  readonly #onDrain: () => void;
  readonly #onStall: () => void;
  #stall: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(max: number, budget: QueueBudget, stallMs: number, onDrain: () => void, onStall: () => void) {
    this.#max = max;
    this.#budget = budget;
    this.#stallMs = stallMs;
    this.#onDrain = onDrain;
    this.#onStall = onStall;
  }

  get blocked(): boolean {
    return this.queued >= this.#max || (this.queued > 0 && this.#budget.total >= this.#budget.max);
  }

  /** True (and woken later through onDrain) when the caller must not write now. */
  mustWait(): boolean {
    if (!this.blocked) return false;
    if (!this.#budget.waiting.has(this)) {
      hit('queued_bytes');
      this.#budget.waiting.add(this);
    }
    return true;
  }

  wake(): void {
    if (!this.#closed) this.#onDrain();
  }

  /** Accounts `bytes` written; returns the write's completion callback. */
  wrote(bytes: number): () => void {
    this.queued += bytes;
    this.#budget.total += bytes;
    this.#stall ??= this.#arm();
    return () => {
      if (this.#closed) return; // close() released them (a cancelled call may never complete its writes)
      this.queued -= bytes;
      this.#budget.total -= bytes;
      clearTimeout(this.#stall);
      this.#stall = this.queued > 0 && !this.#closed ? this.#arm() : undefined;
      this.#budget.released();
    };
  }

  #arm(): NodeJS.Timeout {
    const t = setTimeout(() => this.#onStall(), this.#stallMs);
    t.unref();
    return t;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#stall);
    this.#stall = undefined;
    this.#budget.waiting.delete(this);
    this.#budget.total -= this.queued;
    this.queued = 0;
    this.#budget.released();
  }
}
