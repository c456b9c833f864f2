// What SotW and Delta streams share, the I/O around the protocol reducers (xds/protocol/):
// identifying the proxy from its first request, the request queue, feeding each request and
// each new snapshot to the reducer and writing the responses it returns (shared messages,
// nonces), logs and metrics for the events it reports, lifecycle, and the debug view.
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '../../src/base/log.ts';
import type { Node } from '../gen/envoy/config/core/v3/base_pb.js';
import type { Status } from '../gen/google/rpc/status_pb.js';
import { responseSent } from '../protocol/ack.ts';
import { emptyStream, resourceCount, type NackRecord, type RequestStep, type Response, type Step, type StreamState } from '../protocol/state.ts';
import type { Known } from '../protocol/views.ts';
import { proxyFromNode } from '../resources/node-info.ts';
import type { ProxyInfo } from '../resources/proxy.ts';
import { pushOrder, type TypeUrl } from '../resources/type-urls.ts';
import type { SnapshotWatch } from '../snapshot/cache.ts';
import type { CachedSnapshot } from '../snapshot/types.ts';
import type { Authenticate } from '../../src/identity/auth-hook.ts';
import { reportEvents } from './events.ts';
import { adsMetrics, typeLabel } from './metrics.ts';
import { sharedMessage } from './responses.ts';
import type { EncodedMessage } from './service-definitions.ts';

export type Protocol = 'sotw' | 'delta';

/** The part of SnapshotCache the server uses. */
export interface SnapshotSource {
  watch(proxy: ProxyInfo, listener: () => void): SnapshotWatch;
}

export interface StreamContext {
  readonly cache: SnapshotSource;
  readonly authenticate?: Authenticate;
  readonly log: Logger;
  /** Types served on this stream (SDS streams serve secrets only). */
  readonly types: ReadonlySet<TypeUrl>;
  /** Type assumed when type_url is empty (single-type services only). */
  readonly defaultTypeUrl?: TypeUrl;
  readonly onReady: (s: AdsStream) => void;
  readonly onDirty: (s: AdsStream) => void;
  readonly onClosed: (s: AdsStream) => void;
}

export interface TypeDebug {
  readonly typeUrl: TypeUrl;
  readonly subscribed: '*' | readonly string[];
  readonly versionSent: string;
  readonly versionAcked: string;
  readonly lastNack?: NackRecord;
}

export interface StreamDebug {
  readonly stream: string;
  readonly protocol: Protocol;
  readonly proxy: ProxyInfo;
  readonly group: string;
  readonly connectedSince: string;
  readonly snapshotVersion?: string;
  readonly types: readonly TypeDebug[];
}

/** The server's view of a stream, whatever its protocol. */
export interface AdsStream {
  readonly id: string;
  readonly protocol: Protocol;
  readonly proxy: ProxyInfo | undefined;
  /** Brings the proxy up to date with its group's current snapshot. */
  push(): void;
  /** Ends the stream from the server side (shutdown). */
  end(): void;
  debug(): StreamDebug | undefined;
}

interface BaseRequest {
  node?: Node;
  typeUrl: string;
  responseNonce: string;
  errorDetail?: Status;
}

let streamSeq = 0;
let nonceSeq = 0;

export abstract class XdsStream<Req extends BaseRequest, H extends Known> implements AdsStream {
  abstract readonly protocol: Protocol;
  readonly id = `s${(++streamSeq).toString(36)}`;
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
  #closed = false;

  constructor(call: ServerDuplexStream<Req, EncodedMessage>, ctx: StreamContext) {
    this.#call = call;
    this.ctx = ctx;
    this.log = ctx.log.child({ stream: this.id });
  }

  /** Wires the call's events; the subclass's fields are initialized by now. */
  start(): void {
    adsMetrics.streamsOpened.inc({ protocol: this.protocol });
    this.log.debug({ peer: this.#call.getPeer(), protocol: this.protocol }, 'stream opened');
    this.#call.on('data', (req: Req) => {
      this.#queue = this.#queue
        .then(() => this.#process(req))
        .catch((err: unknown) => {
          this.log.error({ err }, 'request handling failed');
          this.#fail(status.INTERNAL, 'internal error handling the request', 'error');
        });
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

  /** The reducer's view of a request for a served type (`now`: wall clock, epoch ms). */
  protected abstract request(state: StreamState<H>, typeUrl: TypeUrl, req: Req, now: number): RequestStep<H>;
  /** The reducer's answer to a request for `typeUrl`, and its plan for a new snapshot. */
  protected abstract answer(state: StreamState<H>, typeUrl: TypeUrl, snap: CachedSnapshot): Step<H>;
  protected abstract pushed(state: StreamState<H>, snap: CachedSnapshot): Step<H>;
  /** The encoded response body (everything but the nonce), shared where the content is. */
  protected abstract body(r: Response): Uint8Array;

  push(): void {
    if (this.#closed || this.#watch === undefined) return;
    const next = this.#watch.snapshot();
    if (next === undefined || next === this.#pinned) return;
    const unchanged = next.version === this.#pinned?.version;
    this.#pinned = next;
    if (unchanged) return;
    this.#apply(this.pushed(this.#state, next));
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
    const step = this.request(this.#state, typeUrl, req, Date.now());
    this.#state = step.state;
    reportEvents(this.log, step.events);
    if (step.answer === undefined) return;
    const snap = this.#snapshot();
    if (snap === undefined) return; // no model yet: the first push answers
    this.#apply(this.answer(this.#state, step.answer, snap));
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
    this.#call.write(message);
    this.#state = responseSent(this.#state, r, nonce, performance.now());
    adsMetrics.pushes.inc({ type: typeLabel(r.typeUrl) });
    this.log.debug({ typeUrl: r.typeUrl, version: r.holds.version, nonce, resources: resourceCount(r), removed: r.removed.length }, 'response sent');
  }

  async #process(req: Req): Promise<void> {
    if (this.#closed) return;
    if (this.proxy === undefined && !(await this.#identify(req))) return;
    if (!this.#closed) this.#handle(req);
  }

  async #identify(req: Req): Promise<boolean> {
    const parsed = proxyFromNode(req.node);
    if (!parsed.ok) {
      this.log.warn({ reason: parsed.reason }, 'stream rejected: invalid node');
      this.#fail(status.INVALID_ARGUMENT, parsed.reason, 'rejected');
      return false;
    }
    let proxy = parsed.proxy;
    if (this.ctx.authenticate !== undefined && req.node !== undefined) {
      const auth = await this.ctx.authenticate(this.#call, req.node);
      if (!auth.ok) {
        this.log.warn({ proxy: proxy.id, reason: auth.reason }, 'stream rejected: authentication failed');
        this.#fail(status.UNAUTHENTICATED, auth.reason, 'rejected');
        return false;
      }
      if (auth.identity !== undefined) proxy = { ...proxy, identity: auth.identity };
    }
    if (this.#closed) return false;
    this.proxy = proxy;
    this.log = this.ctx.log.child({ stream: this.id, proxy: proxy.id, kind: proxy.kind }); // one child per stream
    this.#watch = this.ctx.cache.watch(proxy, () => this.ctx.onDirty(this));
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
    adsMetrics.streamsClosed.inc({ protocol: this.protocol, reason });
    if (this.proxy !== undefined) {
      adsMetrics.connectedProxies.dec({ kind: this.proxy.kind });
      this.log.info({ reason }, 'proxy disconnected');
    }
    this.ctx.onClosed(this);
  }

  debug(): StreamDebug | undefined {
    if (this.proxy === undefined || this.#watch === undefined) return undefined;
    const types: TypeDebug[] = [];
    for (const typeUrl of pushOrder) {
      const st = this.#state.types.get(typeUrl);
      if (st === undefined) continue;
      types.push({
        typeUrl,
        subscribed: st.sub.wildcard ? '*' : [...st.sub.names],
        versionSent: st.versionSent,
        versionAcked: st.versionAcked,
        ...(st.lastNack !== undefined ? { lastNack: st.lastNack } : {}),
      });
    }
    return {
      stream: this.id,
      protocol: this.protocol,
      proxy: this.proxy,
      group: this.#watch.groupKey,
      connectedSince: this.#connectedAt.toISOString(),
      ...(this.#pinned !== undefined ? { snapshotVersion: this.#pinned.version } : {}),
      types,
    };
  }
}
