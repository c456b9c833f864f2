// xDS on more than one core (issue 11, item 5). The push path is per stream and shares only
// immutable snapshots, so it partitions by stream: N worker threads each run a grpc-js server
// on the same port (SO_REUSEPORT: the kernel spreads connections over them) and own the
// streams that land there. The primary keeps everything that is per mesh, not per stream:
// sources, the model, translation and the snapshot cache (one generation per group, however
// many workers), admission (authentication hook, scope), TLS renewal. Each worker is sent a
// group's snapshot when one of its streams watches the group and on every change, as what
// changed (snapshot-wire.ts, bytes moved, not copied); it encodes each response body once for
// its streams, as one thread does. Nonces stay per worker, which the protocol allows: a
// stream's nonces only have to be unique and increasing on that stream. Metrics of the
// streams (prom-client) stay in each worker's registry for now: see docs/scale.md.
import { Metadata, type ServerCredentials } from '@grpc/grpc-js';
import { createServer } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../src/base/log.ts';
import { addThreadMetrics, type MetricsJson } from '../../src/base/metrics.ts';
import type { Authenticate } from '../../src/identity/auth-hook.ts';
import type { SnapshotWatch } from '../snapshot/cache.ts';
import type { CachedSnapshot } from '../snapshot/types.ts';
import { admitWith, type Admit } from './admit.ts';
import { listenTarget } from './listen.ts';
import { encodeSnapshot } from './snapshot-wire.ts';
import type { SnapshotSource, StreamDebug } from './stream-types.ts';
import { rotatingMaterial } from './tls.ts';
import type { ToPrimary, ToWorker, WorkerData } from './worker-protocol.ts';

export interface XdsWorkersOptions {
  readonly count: number;
  /** host:port (TCP: SO_REUSEPORT has no meaning for unix sockets). */
  readonly address: string;
  readonly cache: SnapshotSource;
  readonly credentials: ServerCredentials;
  readonly authenticate?: Authenticate;
  readonly settings: Omit<WorkerData, 'index' | 'address' | 'tls' | 'admit'>;
  readonly log: Logger;
}

/** What the primary knows of the streams the workers serve. */
export interface XdsStreams {
  readonly connected: number;
  debug(): Promise<StreamDebug[]>;
  /** The snapshot one stream serves from, by stream id (ids are unique across workers). */
  pinnedSnapshot(stream: string): Promise<CachedSnapshot | undefined>;
  /**
   * For synchronous readers (status, mesh view): the streams as last collected, collected
   * again in the background when that is over a second old (at once on one thread).
   */
  latest(): StreamDebug[];
}

/** latest() over an asynchronous debug(). */
export function latestOf(debug: () => Promise<StreamDebug[]>, maxAgeMs = 1_000): () => StreamDebug[] {
  let last: StreamDebug[] = [];
  let at = -Infinity;
  let pending: Promise<void> | undefined;
  return () => {
    if (pending === undefined && performance.now() - at > maxAgeMs) {
      pending = debug()
        .then((s) => {
          last = s;
          at = performance.now();
        })
        .catch(() => undefined)
        .finally(() => (pending = undefined));
    }
    return last;
  };
}

export interface XdsWorkers extends XdsStreams {
  readonly port: number;
  close(): Promise<void>;
}

interface Group {
  readonly watch: SnapshotWatch;
  last?: CachedSnapshot;
  queued: boolean;
}

/** One worker thread and the groups its streams watch. */
class WorkerLink {
  readonly worker: Worker;
  connected = 0;
  readonly #groups = new Map<string, Group>();
  readonly #cache: SnapshotSource;
  readonly #admit: Admit | undefined;
  readonly #debug = new Map<number, (s: StreamDebug[]) => void>();
  readonly #metrics = new Map<number, (m: MetricsJson) => void>();
  readonly #pinned = new Map<number, (s: CachedSnapshot | undefined) => void>();
  #closed: (() => void) | undefined;
  readonly ready: Promise<void>;

  constructor(data: WorkerData, cache: SnapshotSource, admit: Admit | undefined, log: Logger, onExit: (code: number) => void) {
    this.#cache = cache;
    this.#admit = admit;
    this.worker = new Worker(new URL('./worker-main.ts', import.meta.url), { workerData: data });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('error', reject);
      this.worker.on('message', (m: ToPrimary) => {
        if (m.t === 'ready') {
          this.worker.off('error', reject);
          resolve();
        } else this.#onMessage(m);
      });
    });
    this.worker.on('error', (err) => log.error({ err, worker: data.index }, 'xDS worker failed'));
    this.worker.on('exit', (code) => {
      for (const g of this.#groups.values()) g.watch.cancel();
      for (const r of this.#debug.values()) r([]);
      for (const r of this.#metrics.values()) r([]);
      for (const r of this.#pinned.values()) r(undefined);
      this.#pinned.clear();
      this.#debug.clear();
      this.#metrics.clear();
      this.#groups.clear();
      this.connected = 0;
      this.#closed?.();
      onExit(code);
    });
  }

  post(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  debug(id: number): Promise<StreamDebug[]> {
    return new Promise((resolve) => {
      this.#debug.set(id, resolve);
      this.post({ t: 'debug', id });
    });
  }

  pinned(id: number, stream: string): Promise<CachedSnapshot | undefined> {
    return new Promise((resolve) => {
      this.#pinned.set(id, resolve);
      this.post({ t: 'pinned', id, stream });
    });
  }

  metrics(id: number): Promise<MetricsJson> {
    return new Promise((resolve) => {
      this.#metrics.set(id, resolve);
      this.post({ t: 'metrics', id });
    });
  }

  close(graceMs: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => void this.worker.terminate(), graceMs + 1_000);
      this.#closed = () => {
        clearTimeout(t);
        resolve();
      };
      this.post({ t: 'close' });
    });
  }

  #onMessage(m: ToPrimary): void {
    switch (m.t) {
      case 'watch': {
        this.#groups.get(m.key)?.watch.cancel();
        const g: Group = { queued: false, watch: this.#cache.watch(m.proxy, () => this.#queue(m.key, g)) };
        this.#groups.set(m.key, g);
        this.#send(m.key, g);
        break;
      }
      case 'unwatch':
        this.#groups.get(m.key)?.watch.cancel();
        this.#groups.delete(m.key);
        break;
      case 'resync': {
        const g = this.#groups.get(m.key);
        if (g === undefined) break;
        g.last = undefined;
        this.#send(m.key, g);
        break;
      }
      case 'admit':
        void this.#admitted(m);
        break;
      case 'connected':
        this.connected = m.n;
        break;
      case 'debug':
        this.#debug.get(m.id)?.(m.streams);
        this.#debug.delete(m.id);
        break;
      case 'pinned':
        this.#pinned.get(m.id)?.(m.snapshot);
        this.#pinned.delete(m.id);
        break;
      case 'metrics':
        this.#metrics.get(m.id)?.(m.metrics);
        this.#metrics.delete(m.id);
        break;
      case 'closed':
        void this.worker.terminate();
        break;
    }
  }

  /** Watchers are told of a model change all at once: the snapshots go out after, one per group. */
  #queue(key: string, g: Group): void {
    if (g.queued) return;
    g.queued = true;
    setImmediate(() => {
      g.queued = false;
      this.#send(key, g);
    });
  }

  #send(key: string, g: Group): void {
    if (this.#groups.get(key) !== g) return;
    const snap = g.watch.snapshot();
    if (snap === undefined || snap === g.last) return;
    const w = encodeSnapshot(key, snap, g.last);
    g.last = snap;
    this.post({ t: 'snapshot', snapshot: w }, [w.packed]);
  }

  async #admitted(m: Extract<ToPrimary, { t: 'admit' }>): Promise<void> {
    const metadata = new Metadata();
    for (const v of m.authorization) metadata.add('authorization', v);
    const cert = m.certificate !== undefined ? Buffer.from(m.certificate) : undefined;
    const call = {
      metadata,
      getPeer: () => m.peer,
      getAuthContext: () => ({ transportSecurityType: 'ssl', ...(cert !== undefined ? { sslPeerCertificate: { raw: cert } } : {}) }) as never,
    };
    const admission = this.#admit !== undefined ? await this.#admit(call, { id: m.nodeId }, m.proxy).catch(() => undefined) : undefined;
    this.post({ t: 'admitted', id: m.id, admission: admission ?? { ok: false, refusal: 'unauthenticated', reason: 'admission failed' } });
  }
}

/** Starts `count` worker threads serving xDS on `address`; resolves once all listen. */
export async function startXdsWorkers(opts: XdsWorkersOptions): Promise<XdsWorkers> {
  const target = listenTarget(opts.address);
  if (!('port' in target)) throw new Error(`--xds-workers needs a TCP address (SO_REUSEPORT), not ${opts.address}`);
  const material = opts.credentials._isSecure() ? rotatingMaterial(opts.credentials) : undefined;
  if (opts.credentials._isSecure() && material === undefined)
    throw new Error('--xds-workers serves TLS only with the mesh CA serving certificate (createXdsTls)');
  // Port 0: reserve one with SO_REUSEPORT, have the workers join it, then step back.
  const reserve = target.port === 0 ? createServer() : undefined;
  if (reserve !== undefined) {
    await new Promise<void>((resolve, reject) => {
      reserve.once('error', reject);
      reserve.listen({ host: target.host, port: 0, reusePort: true }, resolve);
    });
  }
  const bound = reserve?.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : target.port;
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const admit = opts.authenticate !== undefined ? admitWith(opts.authenticate, opts.cache) : undefined;
  const links: WorkerLink[] = [];
  let closing = false;
  const spawn = (index: number): WorkerLink => {
    const data: WorkerData = {
      ...opts.settings,
      index,
      address: `${host}:${port}`,
      admit: admit !== undefined,
      ...(material !== undefined ? { tls: material.current } : {}),
    };
    const link = new WorkerLink(data, opts.cache, admit, opts.log, (code) => {
      if (closing) return;
      opts.log.error({ worker: index, code }, 'xDS worker exited; starting another in 1 s');
      setTimeout(() => {
        if (!closing) links[index] = spawn(index);
      }, 1_000);
    });
    link.ready.catch(() => undefined); // a restarted worker's failure is logged ('error'), not thrown
    return link;
  };
  try {
    for (let i = 0; i < opts.count; i++) links.push(spawn(i));
    await Promise.all(links.map((l) => l.ready));
  } catch (err) {
    closing = true;
    await Promise.all(links.map((l) => l.worker.terminate()));
    throw err;
  } finally {
    reserve?.close();
  }
  const unfollow = material?.follow((m) => {
    for (const l of links) l.post({ t: 'tls', material: m });
  });
  opts.log.info({ workers: opts.count, port }, 'xDS worker threads listening');
  let seq = 0;
  const offMetrics = addThreadMetrics(() => {
    const id = ++seq;
    return Promise.all(links.map((l) => l.metrics(id)));
  });
  const debug = async (): Promise<StreamDebug[]> => {
    const id = ++seq;
    return (await Promise.all(links.map((l) => l.debug(id)))).flat();
  };
  return {
    port,
    get connected() {
      return links.reduce((n, l) => n + l.connected, 0);
    },
    debug,
    async pinnedSnapshot(stream) {
      const id = ++seq;
      return (await Promise.all(links.map((l) => l.pinned(id, stream)))).find((s) => s !== undefined);
    },
    latest: latestOf(debug),
    async close() {
      closing = true;
      unfollow?.();
      offMetrics();
      await Promise.all(links.map((l) => l.close(opts.settings.shutdownGraceMs ?? 5_000)));
    },
  };
}
