// A supervised informer: our own list+watch loop over KubeClient rather than
// @kubernetes/client-node's makeInformer/ListWatch. ListWatch stops for good on any error
// other than 410 Gone or a client timeout (it only calls the `error` handlers; issues #364,
// #958, #1933), does not ask for bookmarks, and hides the HTTP status of failures. Here:
//  - any failure (network, 403, 404 for a missing CRD, 5xx, a bad line) restarts the loop
//    with exponential backoff and jitter; 410 Gone relists at once;
//  - watches ask for bookmarks; a watchdog aborts a watch that sent nothing (no event, no
//    bookmark) for `stallTimeoutMs` and re-watches from the last resourceVersion;
//  - `synced` turns true after the first complete list and stays true;
//  - every object goes through `transform` (zod at the boundary) before it is stored.
import { systemClock } from '../base/clock.ts';
import { HttpMethod } from '@kubernetes/client-node';
import { log as rootLog, type Logger } from '../base/log.ts';
import { KubeApiError, type KubeClient } from './client.ts';
import { informerObjects as objectsGauge, informerRestarts as restarts, informerSynced as syncedGauge, liveInformers as live } from './informer-metrics.ts';
import { apiVersionOf, collectionPath, namespacedCollectionPath, type ResourceRef } from './resources.ts';
import { classify, watchOnce, type WatchEvent } from './watch.ts';
import { errorMessage } from '../base/errors.ts';

export interface InformerOptions<T> {
  readonly client: KubeClient;
  readonly resource: ResourceRef;
  /** Only this namespace (a Role's grant suffices); default: every namespace. */
  readonly namespace?: string;
  /** Only objects with these labels (`k=v,k2=v2`). */
  readonly labelSelector?: string;
  /** Raw object (apiVersion/kind filled in) → what the store keeps. Must not throw. */
  readonly transform: (raw: Record<string, unknown>) => T;
  /** Updates equal to the stored value do not count as changes. */
  readonly equals?: (a: T, b: T) => boolean;
  /** Called after every effective change (a list that changed something, or an event). */
  readonly onChange?: () => void;
  /** No event or bookmark for this long: the watch is restarted. Default 5 min. */
  readonly stallTimeoutMs?: number;
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Server-side watch timeout; default random in [5, 10) minutes, like client-go. */
  readonly watchTimeoutSeconds?: number;
  readonly pageSize?: number;
  readonly log?: Logger;
}

export interface InformerStatus {
  readonly resource: string;
  readonly synced: boolean;
  readonly watching: boolean;
  readonly objects: number;
  readonly restarts: number;
  readonly lastEventAgeSeconds?: number;
  readonly lastError?: { readonly statusCode: number; readonly reason: string; readonly message: string; readonly at: string };
}

export class SupervisedInformer<T> {
  readonly name: string;
  readonly #o: InformerOptions<T>;
  readonly #log: Logger;
  readonly #stallMs: number;
  readonly #store = new Map<string, T>();
  #rv = '';
  #synced = false;
  #watching = false;
  #restarts = 0;
  #lastHeard: number | undefined;
  #lastError: InformerStatus['lastError'];
  #stop = new AbortController();
  #loop: Promise<void> | undefined;
  readonly #syncWaiters = new Set<() => void>();

  constructor(opts: InformerOptions<T>) {
    this.#o = opts;
    this.name = opts.resource.plural;
    this.#stallMs = opts.stallTimeoutMs ?? 300_000;
    this.#log = (opts.log ?? rootLog).child({ component: 'informer', resource: this.name });
  }

  get synced(): boolean {
    return this.#synced;
  }

  start(): void {
    if (this.#loop) return;
    live.add(this as SupervisedInformer<unknown>);
    this.#loop = this.#run();
  }

  /** Resolves after the first complete list (immediately if already synced). */
  waitForSync(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.add(resolve));
  }

  async stop(): Promise<void> {
    this.#stop.abort(new Error('informer stopped'));
    await this.#loop;
    live.delete(this as SupervisedInformer<unknown>);
    for (const w of this.#syncWaiters) w();
  }

  list(): T[] {
    return [...this.#store.values()];
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#store.get(`${namespace ?? ''}/${name}`);
  }

  status(): InformerStatus {
    return {
      resource: this.name,
      synced: this.#synced,
      watching: this.#watching,
      objects: this.#store.size,
      restarts: this.#restarts,
      ...(this.#lastHeard !== undefined ? { lastEventAgeSeconds: (performance.now() - this.#lastHeard) / 1000 } : {}),
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
    };
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (this.#rv === '') await this.#list(signal);
        const healthy = await this.#watch(signal);
        failures = healthy ? 0 : failures;
        if (!healthy) throw new KubeApiError(0, 'Closed', 'watch closed by the server right after it started');
      } catch (err) {
        if (signal.aborted) break;
        const reason = classify(err);
        const statusCode = err instanceof KubeApiError ? err.statusCode : 0;
        const message = errorMessage(err);
        this.#lastError = { statusCode, reason, message, at: new Date().toISOString() };
        this.#restarts++;
        restarts.inc({ resource: this.name, reason });
        if (reason === 'gone') this.#rv = '';
        const delay = reason === 'gone' ? 0 : this.#backoff(failures++);
        const fields = { statusCode, reason, retryInMs: delay, synced: this.#synced, err: message };
        if (reason === 'not_found') {
          this.#log.warn(fields, 'resource not served by the API server (CRD not installed?); retrying');
        } else if (reason === 'forbidden' || reason === 'unauthorized') {
          this.#log.error(fields, 'informer denied by the API server (RBAC?); retrying');
        } else if (reason === 'gone' || reason === 'stalled') {
          this.#log.info(fields, 'informer restarting');
        } else {
          this.#log.warn(fields, 'informer failed; restarting');
        }
        try {
          await systemClock.sleep(delay, signal);
        } catch {
          break;
        }
      }
    }
    this.#watching = false;
  }

  #backoff(failures: number): number {
    const initial = this.#o.backoff?.initialMs ?? 500;
    const max = this.#o.backoff?.maxMs ?? 30_000;
    const base = Math.min(max, initial * 2 ** Math.min(failures, 20));
    return Math.round(base * (0.8 + Math.random() * 0.4)); // ±20 % jitter: replicas don't retry in lockstep
  }

  #toObject(raw: Record<string, unknown>): [string, T] | undefined {
    const meta = (raw.metadata ?? {}) as { name?: unknown; namespace?: unknown };
    if (typeof meta.name !== 'string') return undefined;
    const key = `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${meta.name}`;
    const full = { ...raw, apiVersion: apiVersionOf(this.#o.resource), kind: this.#o.resource.kind };
    try {
      return [key, this.#o.transform(full)];
    } catch (err) {
      this.#log.error({ err, key }, 'informer transform threw; object skipped');
      return undefined;
    }
  }

  async #list(signal: AbortSignal): Promise<void> {
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.#o.client.request<{ metadata?: { resourceVersion?: string; continue?: string }; items?: Record<string, unknown>[] }>(
        HttpMethod.GET,
        this.#o.namespace !== undefined ? namespacedCollectionPath(this.#o.resource, this.#o.namespace) : collectionPath(this.#o.resource),
        { query: { limit: this.#o.pageSize ?? 500, continue: cont, labelSelector: this.#o.labelSelector }, signal, timeoutMs: 60_000 },
      );
      for (const item of page.items ?? []) {
        const entry = this.#toObject(item);
        if (entry) fresh.set(entry[0], entry[1]);
      }
      rv = page.metadata?.resourceVersion ?? '';
      cont = page.metadata?.continue || undefined;
    } while (cont !== undefined);
    if (signal.aborted) return;
    let changed = fresh.size !== this.#store.size;
    for (const [k, v] of fresh) {
      const old = this.#store.get(k);
      if (old === undefined || !this.#same(old, v)) changed = true;
    }
    this.#store.clear();
    for (const [k, v] of fresh) this.#store.set(k, v);
    this.#rv = rv;
    this.#lastHeard = performance.now();
    objectsGauge.set({ resource: this.name }, this.#store.size);
    const first = !this.#synced;
    if (first) {
      this.#synced = true;
      syncedGauge.set({ resource: this.name }, 1);
      this.#log.info({ objects: this.#store.size, resourceVersion: rv }, 'informer synced');
      for (const w of this.#syncWaiters) w();
      this.#syncWaiters.clear();
    } else {
      this.#log.info({ objects: this.#store.size, resourceVersion: rv, changed }, 'informer relisted');
    }
    if (changed || first) this.#notify();
  }

  #same(a: T, b: T): boolean {
    return this.#o.equals ? this.#o.equals(a, b) : false;
  }

  #notify(): void {
    try {
      this.#o.onChange?.();
    } catch (err) {
      this.#log.error({ err }, 'informer change handler threw');
    }
  }

  /** One watch from #rv. Resolves true when the server ended a healthy watch (timeout). */
  async #watch(outer: AbortSignal): Promise<boolean> {
    const timeoutSeconds = this.#o.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    try {
      return await watchOnce({
        client: this.#o.client,
        resource: this.#o.resource,
        ...(this.#o.namespace !== undefined ? { namespace: this.#o.namespace } : {}),
        ...(this.#o.labelSelector !== undefined ? { labelSelector: this.#o.labelSelector } : {}),
        resourceVersion: this.#rv,
        timeoutSeconds,
        stallMs: this.#stallMs,
        signal: outer,
        onOpen: () => {
          this.#watching = true;
          this.#log.debug({ resourceVersion: this.#rv, timeoutSeconds }, 'watch started');
        },
        onEvent: (ev) => this.#apply(ev),
      });
    } finally {
      this.#watching = false;
    }
  }

  #apply(ev: WatchEvent): void {
    this.#lastHeard = performance.now();
    const obj = ev.object;
    const rv = typeof obj?.metadata?.resourceVersion === 'string' ? obj.metadata.resourceVersion : undefined;
    switch (ev.type) {
      case 'BOOKMARK':
        if (rv) this.#rv = rv;
        return;
      case 'ERROR': {
        const code = typeof obj?.code === 'number' ? obj.code : 500;
        const reason = typeof obj?.reason === 'string' ? obj.reason : '';
        throw new KubeApiError(code, reason, `watch error event: ${typeof obj?.message === 'string' ? obj.message : reason}`);
      }
      case 'ADDED':
      case 'MODIFIED': {
        const entry = obj && this.#toObject(obj as Record<string, unknown>);
        if (rv) this.#rv = rv;
        if (!entry) return;
        const old = this.#store.get(entry[0]);
        this.#store.set(entry[0], entry[1]);
        objectsGauge.set({ resource: this.name }, this.#store.size);
        if (old === undefined || !this.#same(old, entry[1])) this.#notify();
        return;
      }
      case 'DELETED': {
        const entry = obj && this.#toObject(obj as Record<string, unknown>);
        if (rv) this.#rv = rv;
        if (entry && this.#store.delete(entry[0])) {
          objectsGauge.set({ resource: this.name }, this.#store.size);
          this.#notify();
        }
        return;
      }
      default:
        this.#log.warn({ type: String(ev.type) }, 'unknown watch event type ignored');
    }
  }
}
