// The ADS server: accepts SotW and Delta streams (ADS, and SDS for secrets), keeps the set
// of connected streams, and pushes model changes to them (with an optional holdoff: the control
// plane sets none, since its sources already debounce), a batch of streams per event-loop
// turn so ACKs keep flowing while 10,000 proxies are brought up to date.
import type { handleBidiStreamingCall, handleUnaryCall, Server, UntypedServiceImplementation } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { log as rootLog, type Logger } from '../../src/base/log.ts';
import type { DeltaDiscoveryRequest, DiscoveryRequest, DiscoveryResponse } from '../gen/envoy/service/discovery/v3/discovery_pb.js';
import { proxyFromNode, type NodeDefaults } from '../resources/node-info.ts';
import { pushOrder, TypeUrl } from '../resources/type-urls.ts';
import type { Authenticate } from '../../src/identity/auth-hook.ts';
import { Debouncer, type DebounceOptions } from '../../src/base/debounce.ts';
import { DeltaStream } from './delta.ts';
import { admitWith, type Admit } from './admit.ts';
import { defaultXdsLimits, hit, QueueBudget, type XdsLimits } from './limits.ts';
import { adsMetrics } from './metrics.ts';
import { subscription, viewOf } from '../protocol/views.ts';
import { sotwBody } from './responses.ts';
import { aggregatedDiscoveryService, secretDiscoveryService, type EncodedMessage } from './service-definitions.ts';
import { SotwStream } from './sotw.ts';
import { installDirectReads, installZeroCopyReads, installZeroCopyWrites } from './zero-copy.ts';
import type { AdsStream, SnapshotSource, StreamContext, StreamDebug } from './stream.ts';
import type { ProxyInfo } from '../resources/proxy.ts';
import type { CachedSnapshot } from '../snapshot/types.ts';

export interface AdsServerOptions {
  readonly cache: SnapshotSource;
  /** Identity hook (see auth.ts); without it every well-formed node is accepted. */
  readonly authenticate?: Authenticate;
  /** Admission instead of `authenticate` (an xDS worker thread asks the primary: workers.ts). */
  readonly admit?: Admit;
  readonly log?: Logger;
  /** Push holdoff when the server is started on its own (tests); the control plane passes 0. Defaults 100 ms holdoff, 1 s max. */
  readonly debounce?: Partial<DebounceOptions>;
  /** Streams pushed per event-loop turn during a flush (default 500). */
  readonly flushBatch?: number;
  /** What one client may cost (limits.ts); defaults for what is not given. */
  readonly limits?: Partial<XdsLimits>;
  /** What a node's metadata leaves unsaid (`--egress-default`): see xds/resources/node-info.ts. */
  readonly nodeDefaults?: NodeDefaults;
}

/** How long a unary fetch waits for its group's first snapshot (an xDS worker thread receives it from the primary). */
const FETCH_WAIT_MS = 5_000;

/** The group's snapshot now, or when it first arrives (at most `ms`). */
async function firstSnapshot(cache: SnapshotSource, proxy: ProxyInfo, ms: number): Promise<CachedSnapshot | undefined> {
  let wake = (): void => {};
  const watch = cache.watch(proxy, () => wake());
  try {
    let snap = watch.snapshot();
    if (snap !== undefined || cache.remote !== true) return snap;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    snap = watch.snapshot();
    return snap;
  } finally {
    watch.cancel();
  }
}

export class AdsServer {
  readonly #cache: SnapshotSource;
  readonly #admit: Admit | undefined;
  readonly #log: Logger;
  readonly #streams = new Set<AdsStream>();
  /** Every open stream, identified or not (close() must end those too). */
  readonly #open = new Set<AdsStream>();
  readonly #dirty = new Set<AdsStream>();
  readonly #debouncer: Debouncer;
  readonly #flushBatch: number;
  readonly #limits: XdsLimits;
  readonly #nodeDefaults: NodeDefaults;
  readonly #queueBudget: QueueBudget;
  /** Open streams per connection (peer address:port). */
  readonly #perPeer = new Map<string, number>();
  #flushing: Promise<void> | undefined;

  constructor(opts: AdsServerOptions) {
    this.#cache = opts.cache;
    this.#admit = opts.admit ?? (opts.authenticate !== undefined ? admitWith(opts.authenticate, opts.cache) : undefined);
    this.#log = (opts.log ?? rootLog).child({ component: 'ads' });
    this.#flushBatch = opts.flushBatch ?? 500;
    this.#limits = { ...defaultXdsLimits, ...opts.limits };
    this.#nodeDefaults = opts.nodeDefaults ?? {};
    this.#queueBudget = new QueueBudget(this.#limits.maxQueuedBytesTotal);
    this.#debouncer = new Debouncer({ holdoffMs: opts.debounce?.holdoffMs ?? 100, maxDelayMs: opts.debounce?.maxDelayMs ?? 1000 }, () => void this.flush());
  }

  /** Registers ADS and SDS on a grpc-js server. */
  addTo(server: Server): void {
    if (!installZeroCopyWrites()) this.#log.warn('this grpc-js frames every response per stream (no zero-copy hook): pushes cost more CPU');
    if (!installZeroCopyReads()) this.#log.warn('this grpc-js copies every request it receives (no zero-copy read hook): ACKs cost more CPU');
    if (!installDirectReads()) this.#log.warn('this grpc-js queues every request it receives (no direct-read hook): ACKs cost more CPU');
    const all = new Set(pushOrder);
    const secrets = new Set([TypeUrl.Secret]);
    const sotw =
      (types: ReadonlySet<TypeUrl>, defaultTypeUrl?: TypeUrl): handleBidiStreamingCall<DiscoveryRequest, EncodedMessage> =>
      (call) => {
        if (this.#admitCall(call)) this.#started(new SotwStream(call, this.#context(types, defaultTypeUrl, call.getPeer())));
      };
    const delta =
      (types: ReadonlySet<TypeUrl>, defaultTypeUrl?: TypeUrl): handleBidiStreamingCall<DeltaDiscoveryRequest, EncodedMessage> =>
      (call) => {
        if (this.#admitCall(call)) this.#started(new DeltaStream(call, this.#context(types, defaultTypeUrl, call.getPeer())));
      };
    const ads: UntypedServiceImplementation = {
      StreamAggregatedResources: sotw(all),
      DeltaAggregatedResources: delta(all),
    };
    const sds: UntypedServiceImplementation = {
      StreamSecrets: sotw(secrets, TypeUrl.Secret),
      DeltaSecrets: delta(secrets, TypeUrl.Secret),
      FetchSecrets: this.#fetchSecrets,
    };
    server.addService(aggregatedDiscoveryService, ads);
    server.addService(secretDiscoveryService, sds);
  }

  /** Connected, identified streams (for the debug view). */
  debug(): StreamDebug[] {
    return [...this.#streams].flatMap((s) => s.debug() ?? []);
  }

  /** The snapshot one stream serves from (its pinned snapshot), by stream id. */
  pinnedSnapshot(stream: string): CachedSnapshot | undefined {
    for (const s of this.#streams) if (s.id === stream) return s.pinnedSnapshot();
    return undefined;
  }

  get connected(): number {
    return this.#streams.size;
  }

  /** Pushes the current snapshots to every stream whose group may have changed. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flushAll().finally(() => {
      this.#flushing = undefined;
      // Marked dirty after the last batch was taken, while its trigger found us still flushing.
      if (this.#dirty.size > 0 && !this.#debouncer.pending) this.#debouncer.trigger();
    });
    return this.#flushing;
  }

  /** Ends every stream; pending pushes are dropped. */
  close(): void {
    this.#debouncer.cancel();
    for (const s of [...this.#open]) s.end();
    this.#dirty.clear();
  }

  async #flushAll(): Promise<void> {
    const started = performance.now();
    let pushed = 0;
    while (this.#dirty.size > 0) {
      const batch = [...this.#dirty].slice(0, this.#flushBatch);
      for (const s of batch) {
        this.#dirty.delete(s);
        try {
          s.push();
        } catch (err) {
          this.#log.error({ err, stream: s.id }, 'push failed');
        }
      }
      pushed += batch.length;
      if (this.#dirty.size > 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const seconds = (performance.now() - started) / 1000;
    adsMetrics.flushSeconds.observe(seconds);
    this.#log.debug({ streams: pushed, seconds }, 'flush done');
  }

  /** At most maxStreamsPerConnection streams per connection (a unix socket's peers share one count). */
  #admitCall(call: { getPeer(): string; emit(event: 'error', err: object): boolean; on(event: 'error', f: () => void): unknown }): boolean {
    const peer = call.getPeer();
    const open = this.#perPeer.get(peer) ?? 0;
    if (open < this.#limits.maxStreamsPerConnection) {
      this.#perPeer.set(peer, open + 1);
      return true;
    }
    hit('streams_per_connection');
    this.#log.warn({ peer, limit: this.#limits.maxStreamsPerConnection }, 'stream refused: too many streams on one connection');
    call.on('error', () => {});
    call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: `at most ${this.#limits.maxStreamsPerConnection} streams per connection` });
    return false;
  }

  #started(s: SotwStream | DeltaStream): void {
    this.#open.add(s);
    s.start();
  }

  #context(types: ReadonlySet<TypeUrl>, defaultTypeUrl: TypeUrl | undefined, peer: string): StreamContext {
    return {
      cache: this.#cache,
      limits: this.#limits,
      nodeDefaults: this.#nodeDefaults,
      queueBudget: this.#queueBudget,
      ...(this.#admit !== undefined ? { admit: this.#admit } : {}),
      log: this.#log,
      types,
      ...(defaultTypeUrl !== undefined ? { defaultTypeUrl } : {}),
      onReady: (s) => this.#streams.add(s),
      onDirty: (s) => {
        this.#dirty.add(s);
        this.#debouncer.trigger();
      },
      onClosed: (s) => {
        const left = (this.#perPeer.get(peer) ?? 1) - 1;
        if (left > 0) this.#perPeer.set(peer, left);
        else this.#perPeer.delete(peer);
        this.#open.delete(s);
        this.#streams.delete(s);
        this.#dirty.delete(s);
      },
    };
  }

  /** Unary SDS: the named secrets from the caller's current snapshot. */
  readonly #fetchSecrets: handleUnaryCall<DiscoveryRequest, DiscoveryResponse | EncodedMessage> = (call, callback) => {
    void (async () => {
      const parsed = proxyFromNode(call.request.node, this.#limits.maxNodeBytes, this.#nodeDefaults);
      if (!parsed.ok) return callback({ code: status.INVALID_ARGUMENT, details: parsed.reason });
      let proxy = parsed.proxy;
      if (this.#admit !== undefined && call.request.node !== undefined) {
        const a = await this.#admit(call, call.request.node, proxy);
        if (!a.ok) return callback({ code: a.refusal === 'scope' ? status.PERMISSION_DENIED : status.UNAUTHENTICATED, details: a.reason });
        proxy = a.proxy;
      }
      const snap = await firstSnapshot(this.#cache, proxy, FETCH_WAIT_MS);
      if (snap === undefined) return callback({ code: status.UNAVAILABLE, details: 'no configuration yet' });
      const view = viewOf(snap.resources.get(TypeUrl.Secret) ?? new Map(), subscription(false, call.request.resourceNames));
      callback(null, { encoded: sotwBody(TypeUrl.Secret, view.version, view.resources.values()) });
    })().catch((err: unknown) => {
      this.#log.error({ err }, 'FetchSecrets failed');
      callback({ code: status.INTERNAL, details: 'internal error' });
    });
  };
}
