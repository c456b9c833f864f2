// What SotW and Delta streams share: identifying the proxy from its first request, the
// request queue, nonces, ACK/NACK bookkeeping, writing responses in make-before-break
// order, lifecycle metrics, and the debug view. Per-stream state is deliberately small:
// references to interned subscriptions and shared views, a few strings per type.
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '../../src/base/log.ts';
import type { Node } from '../gen/envoy/config/core/v3/base_pb.js';
import type { Status } from '../gen/google/rpc/status_pb.js';
import { proxyFromNode } from '../resources/node-info.ts';
import type { ProxyInfo } from '../resources/proxy.ts';
import { pushOrder, TypeUrl } from '../resources/type-urls.ts';
import type { SnapshotWatch } from '../snapshot/cache.ts';
import type { CachedSnapshot } from '../snapshot/types.ts';
import type { Authenticate } from '../../src/identity/auth-hook.ts';
import { adsMetrics, typeLabel } from './metrics.ts';
import { sharedMessage } from './responses.ts';
import type { EncodedMessage } from './service-definitions.ts';
import { noSubscription, type Known, type Subscription, type View } from './views.ts';

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

export interface NackRecord {
  readonly nonce: string;
  readonly version: string;
  readonly message: string;
  readonly at: string;
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

export interface TypeState<H extends Known = Known> {
  sub: Subscription;
  /** The client named resources at least once: an empty list no longer means wildcard. */
  explicit: boolean;
  nonce: string;
  versionSent: string;
  versionAcked: string;
  sentAt: number;
  /** A response with `nonce` is waiting for its ACK/NACK. */
  awaiting: boolean;
  /** Push that wrote `nonce`; earlier unanswered responses of that push (a push may send two). */
  batch?: number;
  earlier?: readonly { readonly nonce: string; readonly version: string }[];
  lastNack?: NackRecord;
  /**
   * The content last planned for this subscription. Only a different one is pushed again,
   * so a NACKed config is never re-sent as is (no loop).
   */
  sent?: View;
  /**
   * What the client is believed to hold: the diff basis. Optimistic (what was last sent);
   * after a NACK, back to what it last ACKed, so the next new content re-sends everything
   * the rejected response carried (the client may have applied none of it).
   */
  basis?: H;
  /** What the client holds once the latest response is accepted, and once it was. */
  pending?: H;
  acked?: H;
}

export function newTypeState<H extends Known = Known>(): TypeState<H> {
  return { sub: noSubscription, explicit: false, nonce: '', versionSent: '', versionAcked: '', sentAt: 0, awaiting: false };
}

export interface Outgoing {
  readonly typeUrl: TypeUrl;
  readonly st: TypeState;
  readonly body: Uint8Array;
  readonly version: string;
  /** What the client holds for this type once it accepts this response. */
  readonly holds: Known;
  readonly resources: number;
  readonly removed: number;
}

/**
 * One push, in make-before-break order: additions in push order (CDS → EDS → LDS → RDS),
 * then removals in reverse (references dropped before their targets), then CLAs of
 * clusters the CDS removal response (re)introduced, which Envoy needs to finish warming.
 */
export class PushPlan {
  readonly now: Outgoing[] = [];
  readonly removals = new Map<TypeUrl, Outgoing>();
  readonly afterCdsRemoval: Outgoing[] = [];
  /** CLA names of EDS clusters this push changes: resent even if unchanged. */
  readonly forcedEds = new Set<string>();
  /** CDS went out in two phases: the forced CLAs must follow the second one as well. */
  cdsSplit = false;

  ordered(): Outgoing[] {
    const out = [...this.now];
    for (let i = pushOrder.length - 1; i >= 0; i--) {
      const t = pushOrder[i]!;
      const removal = this.removals.get(t);
      if (removal !== undefined) out.push(removal);
      if (t === TypeUrl.Cluster) out.push(...this.afterCdsRemoval);
    }
    return out;
  }
}

interface BaseRequest {
  node?: Node;
  typeUrl: string;
  responseNonce: string;
  errorDetail?: Status;
}

/** A NACK's error_detail is the client's text, as long as a request may be: kept and logged in part. */
const NACK_MESSAGE_MAX = 4096;

function nackMessage(detail: Status): string {
  const m = detail.message;
  return m.length <= NACK_MESSAGE_MAX ? m : `${m.slice(0, NACK_MESSAGE_MAX)}… (${m.length - NACK_MESSAGE_MAX} more characters)`;
}

let streamSeq = 0;
let nonceSeq = 0;

export abstract class XdsStream<Req extends BaseRequest, St extends TypeState> implements AdsStream {
  abstract readonly protocol: Protocol;
  readonly id = `s${(++streamSeq).toString(36)}`;
  proxy: ProxyInfo | undefined;
  protected log: Logger;
  protected readonly ctx: StreamContext;
  protected readonly types = new Map<TypeUrl, St>();
  readonly #call: ServerDuplexStream<Req, EncodedMessage>;
  readonly #connectedAt = new Date();
  #watch: SnapshotWatch | undefined;
  #pinned: CachedSnapshot | undefined;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  #batch = 0;

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

  protected abstract handleRequest(req: Req): void;
  /** Plans responses for one type against `snap`; updates what the stream believes the client holds. */
  protected abstract plan(typeUrl: TypeUrl, st: St, snap: CachedSnapshot, plan: PushPlan): void;

  push(): void {
    if (this.#closed || this.#watch === undefined) return;
    const next = this.#watch.snapshot();
    if (next === undefined || next === this.#pinned) return;
    const unchanged = next.version === this.#pinned?.version;
    this.#pinned = next;
    if (unchanged) return;
    const plan = new PushPlan();
    for (const typeUrl of pushOrder) {
      const st = this.types.get(typeUrl);
      if (st !== undefined) this.plan(typeUrl, st, next, plan);
    }
    this.writeAll(plan);
  }

  end(): void {
    if (this.#closed) return;
    this.#call.end();
    this.#close('server_close');
  }

  /** The snapshot this stream serves from; moves only on push(), so one flush stays consistent. */
  protected snapshot(): CachedSnapshot | undefined {
    this.#pinned ??= this.#watch?.snapshot();
    return this.#pinned;
  }

  /** The served type's canonical string (streams keep no per-request copies), or undefined. */
  protected resolveType(typeUrl: string): TypeUrl | undefined {
    const t = typeUrl === '' ? this.ctx.defaultTypeUrl : typeUrl;
    for (const served of this.ctx.types) if (served === t) return served;
    this.log.debug({ typeUrl }, 'request for an unserved type ignored');
    return undefined;
  }

  /** Call only for a request answering the latest nonce of this type. */
  protected ackOrNack(typeUrl: TypeUrl, st: St, errorDetail: Status | undefined, ackedVersion: string): void {
    if (!st.awaiting) return; // a later request re-using the nonce (subscription change), not a new answer
    st.awaiting = false;
    const type = typeLabel(typeUrl);
    adsMetrics.pushAckSeconds.observe({ type }, (performance.now() - st.sentAt) / 1000);
    if (errorDetail !== undefined) {
      st.lastNack = { nonce: st.nonce, version: st.versionSent, message: nackMessage(errorDetail), at: new Date().toISOString() };
      adsMetrics.nacks.inc({ type });
      st.basis = st.acked;
      this.log.warn(
        { typeUrl, nonce: st.nonce, version: st.versionSent, error: nackMessage(errorDetail) },
        'proxy rejected config (NACK); it keeps its last good config',
      );
    } else {
      st.versionAcked = ackedVersion;
      st.acked = st.pending;
      adsMetrics.acks.inc({ type });
      this.log.debug({ typeUrl, nonce: st.nonce, version: ackedVersion }, 'ACK');
    }
  }

  /**
   * A NACK of a response that an answered-later one of the same push followed (Delta additions
   * before removals, a make-before-break phase): still a NACK, though its nonce is not the latest.
   */
  protected nackOfEarlier(typeUrl: TypeUrl, st: St, nonce: string, errorDetail: Status | undefined): void {
    const earlier = st.earlier?.find((e) => e.nonce === nonce);
    if (earlier === undefined) return;
    st.earlier = st.earlier!.filter((e) => e !== earlier);
    if (errorDetail === undefined) return;
    st.lastNack = { nonce, version: earlier.version, message: nackMessage(errorDetail), at: new Date().toISOString() };
    adsMetrics.nacks.inc({ type: typeLabel(typeUrl) });
    st.basis = st.acked;
    this.log.warn({ typeUrl, nonce, version: earlier.version, error: nackMessage(errorDetail) }, 'proxy rejected config (NACK); it keeps its last good config');
  }

  protected writeAll(plan: PushPlan): void {
    this.#batch++;
    for (const out of plan.ordered()) this.#write(out);
  }

  #write(out: Outgoing): void {
    if (this.#closed) return;
    const { nonce, message } = sharedMessage(out.body, () => (++nonceSeq).toString(36), out.st.nonce);
    this.#call.write(message);
    const st = out.st;
    const earlier = st.batch === this.#batch && st.awaiting ? [...(st.earlier ?? []), { nonce: st.nonce, version: st.versionSent }] : [];
    Object.assign(st, {
      batch: this.#batch,
      earlier,
      nonce,
      versionSent: out.version,
      sentAt: performance.now(),
      awaiting: true,
      pending: out.holds,
      basis: out.holds,
    });
    adsMetrics.pushes.inc({ type: typeLabel(out.typeUrl) });
    this.log.debug({ typeUrl: out.typeUrl, version: out.version, nonce, resources: out.resources, removed: out.removed }, 'response sent');
  }

  async #process(req: Req): Promise<void> {
    if (this.#closed) return;
    if (this.proxy === undefined && !(await this.#identify(req))) return;
    if (!this.#closed) this.handleRequest(req);
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
      const st = this.types.get(typeUrl);
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
