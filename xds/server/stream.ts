// What SotW and Delta streams share, the I/O around the protocol reducers (xds/protocol/):
// identifying the proxy from its first request, the request queue, feeding each request and
// each new snapshot to the reducer and writing the responses it returns (shared messages,
// nonces), logs and metrics for the events it reports, lifecycle, and the debug view.
// What a client may cost is bounded (limits.ts): requests are paced, names checked, and the
// answers of a request wait (and coalesce, one per type) while the client is not reading.
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import { clip } from '../../src/base/clip.ts';
import type { Logger } from '../../src/base/log.ts';
import { responseSent } from '../protocol/ack.ts';
import { emptyStream, resourceCount, type ProtocolEvent, type RequestStep, type Response, type Step, type StreamState } from '../protocol/state.ts';
import type { Known } from '../protocol/views.ts';
import type { LimitViolation } from '../protocol/limits.ts';
import { proxyFromNode } from '../resources/node-info.ts';
import type { ProxyInfo } from '../resources/proxy.ts';
import { pushOrder, type TypeUrl } from '../resources/type-urls.ts';
import type { SnapshotWatch } from '../snapshot/cache.ts';
import type { CachedSnapshot } from '../snapshot/types.ts';
import { reportEvents } from './events.ts';
import { describeStream, type StreamDebug } from './stream-debug.ts';
import { resetStream } from './reset.ts';
import { hit, Pacer, ReadPacer, WriteQueue } from './limits.ts';
import { adsMetrics, tally, typeLabel } from './metrics.ts';
import { sharedMessage } from './responses.ts';
import type { EncodedMessage } from './service-definitions.ts';

import type { AdsStream, BaseRequest, Protocol, StreamContext } from './stream-types.ts';

export type { AdsStream, Protocol, SnapshotSource, StreamContext, StreamDebug, TypeDebug } from './stream-types.ts';

let streamSeq = 0;
let streamPrefix = 's';

/** Stream ids are `<prefix><n>`; each xDS worker thread has a prefix of its own. */
export function setStreamIdPrefix(prefix: string): void {
  streamPrefix = prefix;
}
let nonceSeq = 0;

export abstract class XdsStream<Req extends BaseRequest, H extends Known> implements AdsStream {
  abstract readonly protocol: Protocol;
  readonly id = `${streamPrefix}${(++streamSeq).toString(36)}`;
  proxy: ProxyInfo | undefined;
  protected log: Logger;
  protected readonly ctx: StreamContext;
  /** The protocol state: only the reducers make the next one. */
  #state: StreamState<H> = emptyStream;
  readonly #call: ServerDuplexStream<Req, EncodedMessage>;
  readonly #connectedAt = new Date();
  #watch: SnapshotWatch | undefined;
  #pinned: CachedSnapshot | undefined;
  #queue: Promise<void> = Promise.resolve();
  /** Requests waiting in #queue. */
  #queued = 0;
  #closed = false;
  readonly #pacer: ReadPacer;
  readonly #writes: WriteQueue;
  readonly #answers: Pacer;
  readonly #answered = new Set<TypeUrl>();
  #answerTimer: NodeJS.Timeout | undefined;
  /** Types whose answer is due, and whether a push is: done by #pump, so a burst of requests gets one answer per type. */
  readonly #owed = new Set<TypeUrl>();
  #pushOwed = false;
  /** When this stream's snapshot last changed and it has not pushed the change yet (performance.now()). */
  #changedAt: number | undefined;
  /** A pushed change waiting for its answers: the change's time and the types not yet ACKed or NACKed. */
  #changeAck: { at: number; types: Set<TypeUrl> } | undefined;
  #pumpScheduled: NodeJS.Immediate | undefined;

  constructor(call: ServerDuplexStream<Req, EncodedMessage>, ctx: StreamContext) {
    this.#call = call;
    this.ctx = ctx;
    this.log = ctx.log.child({ stream: this.id });
    const { limits } = ctx;
    this.#pacer = new ReadPacer(limits, call, () => this.log, performance.now());
    this.#answers = new Pacer(limits.answerBytesPerSecond, limits.answerBurstBytes, performance.now());
    this.#writes = new WriteQueue(
      limits.maxQueuedBytes,
      ctx.queueBudget,
      limits.writeStallMs,
      () => this.#schedulePump(),
      () => this.#stalled(),
    );
  }

  /** Wires the call's events; the subclass's fields are initialized by now. */
  start(): void {
    adsMetrics.streamsOpened.inc({ protocol: this.protocol });
    this.log.debug({ peer: this.#call.getPeer(), protocol: this.protocol }, 'stream opened');
    this.#call.on('data', (req: Req) => {
      this.#pacer.onRequest(performance.now());
      // Once identified, with nothing queued, a request (an ACK, mostly) is handled at once:
      // three promises per ACK were a visible share of a 10k push. Order is kept: only the
      // first request (identification may await admission) and those behind it queue.
      if (this.#queued === 0 && this.proxy !== undefined) {
        try {
          if (!this.#closed) this.#handle(req);
        } catch (err: unknown) {
          this.#failed(err);
        }
        return;
      }
      this.#queued++;
      this.#queue = this.#queue
        .then(() => this.#process(req))
        .catch((err: unknown) => this.#failed(err))
        .finally(() => this.#queued--);
    });
    this.#call.on('end', () => {
      this.#call.end();
      this.#close('client_end');
    });
    this.#call.on('cancelled', () => this.#close('cancelled'));
    this.#call.on('error', (err: unknown) => {
      this.log.debug({ err }, 'stream error');
      this.#close('error');
    });
    this.#call.on('close', () => this.#close('closed'));
  }

  #failed(err: unknown): void {
    this.log.error({ err }, 'request handling failed');
    this.#fail(status.INTERNAL, 'internal error handling the request', 'error');
  }

  /** The request's names against the subscription limits, before the reducer takes it. */
  protected abstract check(state: StreamState<H>, typeUrl: TypeUrl, req: Req): LimitViolation | undefined;
  /** The reducer's view of a request for a served type (`now`: wall clock, epoch ms). */
  protected abstract request(state: StreamState<H>, typeUrl: TypeUrl, req: Req, now: number): RequestStep<H>;
  /** The reducer's answer to a request for `typeUrl`, and its plan for a new snapshot. */
  protected abstract answer(state: StreamState<H>, typeUrl: TypeUrl, snap: CachedSnapshot): Step<H>;
  protected abstract pushed(state: StreamState<H>, snap: CachedSnapshot): Step<H>;
  /** The encoded response body (everything but the nonce), shared where the content is. */
  protected abstract body(r: Response): Uint8Array;

  push(): void {
    if (this.#closed || this.#watch === undefined) return;
    if (this.#writes.mustWait()) {
      this.#pushOwed = true; // the client is not reading: the push it gets on drain carries the latest snapshot
      return;
    }
    const next = this.#watch.snapshot();
    if (next === undefined || next === this.#pinned) return;
    const unchanged = next.version === this.#pinned?.version;
    this.#pinned = next;
    if (unchanged) return;
    const step = this.pushed(this.#state, next);
    if (this.#changedAt !== undefined && step.responses.length > 0) {
      this.#changeAck = { at: this.#changedAt, types: new Set(step.responses.map((r) => r.typeUrl)) };
    }
    this.#changedAt = undefined;
    this.#apply(step);
  }

  /** weft_xds_change_ack_seconds: once every type a change pushed is answered (its last ACK). */
  #noteAnswers(events: readonly ProtocolEvent[]): void {
    const pending = this.#changeAck;
    if (pending === undefined) return;
    for (const e of events) if (e.kind !== 'stale' && e.sentAt !== undefined) pending.types.delete(e.typeUrl);
    if (pending.types.size > 0) return;
    this.#changeAck = undefined;
    adsMetrics.changeAckSeconds.observe((performance.now() - pending.at) / 1000);
  }

  end(): void {
    if (this.#closed) return;
    this.#call.end();
    this.#close('server_close');
  }

  /** The snapshot this stream serves from; moves only on push(), so one flush stays consistent. */
  #snapshot(): CachedSnapshot | undefined {
    this.#pinned ??= this.#watch?.snapshot();
    return this.#pinned;
  }

  /** The served type's canonical string (streams keep no per-request copies), or undefined. */
  #resolveType(typeUrl: string): TypeUrl | undefined {
    const t = typeUrl === '' ? this.ctx.defaultTypeUrl : typeUrl;
    for (const served of this.ctx.types) if (served === t) return served;
    this.log.debug({ typeUrl }, 'request for an unserved type ignored');
    return undefined;
  }

  #handle(req: Req): void {
    const typeUrl = this.#resolveType(req.typeUrl);
    if (typeUrl === undefined) return;
    const violation = this.check(this.#state, typeUrl, req);
    if (violation !== undefined) {
      hit(violation.limit);
      this.log.warn({ typeUrl, limit: violation.limit, reason: violation.message }, 'stream ended: request over a limit');
      this.#fail(status.RESOURCE_EXHAUSTED, violation.message, 'limit');
      return;
    }
    const step = this.request(this.#state, typeUrl, req, Date.now());
    this.#state = step.state;
    reportEvents(this.log, step.events);
    this.#noteAnswers(step.events);
    if (step.answer === undefined) return;
    this.#owed.add(step.answer);
    this.#schedulePump();
  }

  /** After the requests at hand (a burst read in one turn), answer what they changed, from the latest state. */
  #schedulePump(): void {
    if (this.#pumpScheduled !== undefined || this.#closed) return;
    this.#pumpScheduled = setImmediate(() => {
      this.#pumpScheduled = undefined;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#closed || this.#writes.mustWait()) return;
    const snap = this.#snapshot();
    if (snap === undefined) this.#owed.clear(); // no model yet: the first push answers
    const wait = this.#owed.size > 0 ? this.#answers.wait(performance.now()) : 0;
    if (wait > 0) this.#answerLater(wait);
    for (const t of pushOrder) {
      if (snap === undefined || wait > 0 || this.#writes.mustWait()) break;
      if (!this.#owed.delete(t)) continue;
      const before = this.#writes.queued;
      this.#apply(this.answer(this.#state, t, snap));
      // A type's first answer is free (a proxy's start-up); answers after it re-send, and pay.
      if (this.#answered.has(t)) this.#answers.take(performance.now(), this.#writes.queued - before);
      this.#answered.add(t);
    }
    if (this.#pushOwed && !this.#writes.mustWait()) {
      this.#pushOwed = false;
      this.push();
    }
  }

  /** Answers over the stream's byte rate wait (what is owed meanwhile coalesces). */
  #answerLater(ms: number): void {
    if (this.#answerTimer !== undefined) return;
    hit('answer_rate');
    this.#answerTimer = setTimeout(() => {
      this.#answerTimer = undefined;
      this.#schedulePump();
    }, ms);
  }

  #stalled(): void {
    hit('write_stall');
    this.log.warn({ queuedBytes: this.#writes.queued, stallMs: this.ctx.limits.writeStallMs }, 'stream ended: the client does not read its responses');
    this.#writes.close();
    this.#fail(status.RESOURCE_EXHAUSTED, 'responses not read', 'write_stall');
    resetStream(this.#call); // the status would wait behind the unread responses: reset, which frees them
  }

  #apply(step: Step<H>): void {
    this.#state = step.state;
    reportEvents(this.log, step.events);
    for (const r of step.responses) this.#write(r);
  }

  #write(r: Response): void {
    if (this.#closed) return;
    const latest = this.#state.types.get(r.typeUrl)?.nonce ?? '';
    const { nonce, message } = sharedMessage(this.body(r), () => (++nonceSeq).toString(36), latest);
    this.#call.write(message, this.#writes.wrote(message.encoded.length));
    this.#state = responseSent(this.#state, r, nonce, performance.now());
    tally.push(typeLabel(r.typeUrl));
    if (this.log.isLevelEnabled('debug')) {
      this.log.debug({ typeUrl: r.typeUrl, version: r.holds.version, nonce, resources: resourceCount(r), removed: r.removed.length }, 'response sent');
    }
  }

  async #process(req: Req): Promise<void> {
    if (this.#closed) return;
    if (this.proxy === undefined && !(await this.#identify(req))) return;
    if (!this.#closed) this.#handle(req);
  }

  async #identify(req: Req): Promise<boolean> {
    const parsed = proxyFromNode(req.node, this.ctx.limits.maxNodeBytes, this.ctx.nodeDefaults);
    if (!parsed.ok) {
      if (parsed.limit) hit('node_size');
      this.log.warn({ reason: parsed.reason }, 'stream rejected: invalid node');
      this.#fail(status.INVALID_ARGUMENT, parsed.reason, 'rejected');
      return false;
    }
    let proxy = parsed.proxy;
    if (this.ctx.admit !== undefined && req.node !== undefined) {
      const a = await this.ctx.admit(this.#call, req.node, proxy);
      if (!a.ok && a.refusal === 'unauthenticated') {
        this.log.warn({ proxy: clip(proxy.id), reason: a.reason }, 'stream rejected: authentication failed');
        this.#fail(status.UNAUTHENTICATED, a.reason, 'rejected');
        return false;
      }
      if (!a.ok) {
        adsMetrics.scopeRefused.inc({ claim: a.claim ?? 'namespace' });
        this.log.warn({ proxy: clip(proxy.id), identity: a.identity, reason: a.reason }, 'stream rejected: claim outside the credential');
        this.#fail(status.PERMISSION_DENIED, a.reason, 'rejected');
        return false;
      }
      proxy = a.proxy;
    }
    if (this.#closed) return false;
    this.proxy = proxy;
    this.log = this.ctx.log.child({ stream: this.id, proxy: clip(proxy.id), kind: proxy.kind }); // one child per stream
    this.#watch = this.ctx.cache.watch(proxy, () => {
      this.#changedAt ??= performance.now();
      this.ctx.onDirty(this);
    });
    adsMetrics.connectedProxies.inc({ kind: proxy.kind });
    this.ctx.onReady(this);
    this.log.info({ namespace: proxy.namespace, group: this.#watch.groupKey, protocol: this.protocol }, 'proxy connected');
    return true;
  }

  #fail(code: status, details: string, reason: string): void {
    if (this.#closed) return;
    this.#close(reason);
    this.#call.emit('error', { code, details });
  }

  #close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch?.cancel();
    this.#writes.close();
    this.#pacer.close();
    clearTimeout(this.#answerTimer);
    if (this.#pumpScheduled !== undefined) clearImmediate(this.#pumpScheduled);
    adsMetrics.streamsClosed.inc({ protocol: this.protocol, reason });
    if (this.proxy !== undefined) {
      adsMetrics.connectedProxies.dec({ kind: this.proxy.kind });
      this.log.info({ reason }, 'proxy disconnected');
    }
    this.ctx.onClosed(this);
  }

  /** The snapshot this stream serves from (the config debug view reads it); undefined before the first push. */
  pinnedSnapshot(): CachedSnapshot | undefined {
    return this.#pinned;
  }

  debug(): StreamDebug | undefined {
    if (this.proxy === undefined || this.#watch === undefined) return undefined;
    return describeStream({
      id: this.id,
      protocol: this.protocol,
      proxy: this.proxy,
      group: this.#watch.groupKey,
      connectedAt: this.#connectedAt,
      peer: this.#call.getPeer(),
      pinned: this.#pinned,
      state: this.#state,
    });
  }
}
