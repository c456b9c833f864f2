// The snapshot cache: the current mesh model plus a pure generator, memoized per proxy group.
// N proxies in one group cost one generation per model version; encoding is shared further
// (per message object, see encode.ts). A snapshot that fails generation or its consistency
// check is never published: the group keeps serving its last good snapshot.
import { log as rootLog, type Logger } from '../../src/base/log.ts';
import type { MeshModel } from '../../src/model/types.ts';
import { proxyGroupKey, type ProxyInfo } from '../resources/proxy.ts';
import { pushOrder, type TypeUrl } from '../resources/type-urls.ts';
import type { ResourceSet } from '../translate/types.ts';
import { encodeResourceSet, typeVersion } from './encode.ts';
import { hashStrings } from './hash.ts';
import { createInternPool } from './intern.ts';
import { snapshotMetrics } from './metrics.ts';
import type { CachedSnapshot, EncodedResource } from './types.ts';
import { errorMessage } from '../../src/base/errors.ts';

/** Pure: (model, proxy) → resources. Called with one member of the proxy's group. */
export type Generator = (model: MeshModel, proxy: ProxyInfo) => ResourceSet;
/** Returns problems (empty when consistent), e.g. a listener naming a route that is not in the set. */
export type ConsistencyCheck = (set: ResourceSet) => string[];

export interface SnapshotCacheOptions {
  readonly generate: Generator;
  /** The real check lives in xds/translate/consistency.ts; inject it here. */
  readonly checkConsistency?: ConsistencyCheck;
  readonly model?: MeshModel;
  readonly log?: Logger;
  /**
   * A group nobody has watched for this long is dropped (default 5 min), by a timer or at the
   * next model change. Until then it keeps its last good snapshot for proxies that reconnect.
   */
  readonly idleGroupTtlMs?: number;
  /**
   * Groups kept without a watcher at most (default 1,000): past it the longest idle go first.
   * Group keys include labels a client certificate's proxy may choose, so without this bound
   * 50 connects with large labels kept 136 MiB until the next model change (issue 13).
   */
  readonly maxIdleGroups?: number;
}

/** A proxy's interest in its group's snapshot; the listener runs on every model change. */
export interface SnapshotWatch {
  readonly groupKey: string;
  /** Current snapshot for the group (the last good one if the newest failed), if any. */
  snapshot(): CachedSnapshot | undefined;
  cancel(): void;
}

export interface GroupStatus {
  readonly group: string;
  readonly watchers: number;
  readonly snapshotVersion?: string;
  readonly modelVersion?: string;
  /** Why the newest model was not published for this group (empty when it was). */
  readonly problems: readonly string[];
}

interface GroupEntry {
  readonly key: string;
  readonly proxy: ProxyInfo;
  readonly watchers: Set<() => void>;
  /** When the last watcher left (or the entry was created unwatched). */
  idleSince: number;
  snapshot?: CachedSnapshot;
  attemptedModel?: string;
  problems: readonly string[];
}

const typeMaps = createInternPool<ReadonlyMap<string, EncodedResource>>();

export class SnapshotCache {
  readonly #generate: Generator;
  readonly #check: ConsistencyCheck;
  readonly #log: Logger;
  readonly #groups = new Map<string, GroupEntry>();
  readonly #idleTtlMs: number;
  readonly #maxIdle: number;
  #sweep: NodeJS.Timeout | undefined;
  #model: MeshModel | undefined;

  constructor(opts: SnapshotCacheOptions) {
    this.#generate = opts.generate;
    this.#check = opts.checkConsistency ?? (() => []);
    this.#log = (opts.log ?? rootLog).child({ component: 'snapshot-cache' });
    this.#model = opts.model;
    this.#idleTtlMs = opts.idleGroupTtlMs ?? 5 * 60_000;
    this.#maxIdle = opts.maxIdleGroups ?? 1_000;
  }

  /**
   * Idle groups are released on their own clock too, not only at the next model change: a
   * timer (unref'd, one per cache) drops those idle for the TTL, and the idle count is capped.
   */
  #idled(): void {
    const idle = [...this.#groups.values()].filter((e) => e.watchers.size === 0);
    if (idle.length > this.#maxIdle) {
      idle.sort((a, b) => a.idleSince - b.idleSince);
      for (const e of idle.slice(0, idle.length - this.#maxIdle)) this.#groups.delete(e.key);
      snapshotMetrics.groups.set(this.#groups.size);
    }
    this.#sweep ??= setTimeout(() => this.#sweepIdle(), this.#idleTtlMs).unref();
  }

  #sweepIdle(): void {
    this.#sweep = undefined;
    const now = Date.now();
    let next = Infinity;
    for (const [key, entry] of this.#groups) {
      if (entry.watchers.size > 0) continue;
      if (entry.idleSince <= now - this.#idleTtlMs) this.#groups.delete(key);
      else next = Math.min(next, entry.idleSince + this.#idleTtlMs - now);
    }
    snapshotMetrics.groups.set(this.#groups.size);
    if (next !== Infinity) this.#sweep = setTimeout(() => this.#sweepIdle(), Math.max(next, 10)).unref();
  }

  get model(): MeshModel | undefined {
    return this.#model;
  }

  /** Swaps the model and notifies watchers; snapshots are rebuilt lazily, once per group. */
  setModel(model: MeshModel): void {
    if (this.#model?.version === model.version) return;
    this.#model = model;
    const idleBefore = Date.now() - this.#idleTtlMs;
    for (const [key, entry] of this.#groups) {
      if (entry.watchers.size === 0 && entry.idleSince <= idleBefore) this.#groups.delete(key);
    }
    snapshotMetrics.groups.set(this.#groups.size);
    this.#log.debug({ modelVersion: model.version, groups: this.#groups.size }, 'model set');
    for (const entry of this.#groups.values()) this.#notify(entry);
  }

  /**
   * Regenerates the groups whose proxy matches from the same model — for inputs that change
   * on their own clock, such as a renewed workload certificate — and notifies their watchers.
   * Unwatched groups rebuild when next watched. Returns how many groups matched.
   */
  refresh(match: (proxy: ProxyInfo) => boolean): number {
    let n = 0;
    for (const entry of this.#groups.values()) {
      if (!match(entry.proxy)) continue;
      n++;
      entry.attemptedModel = undefined;
      this.#notify(entry);
    }
    this.#log.debug({ groups: n }, 'groups refreshed');
    return n;
  }

  #notify(entry: GroupEntry): void {
    for (const listener of entry.watchers) {
      try {
        listener();
      } catch (err) {
        this.#log.error({ err, group: entry.key }, 'snapshot watcher failed');
      }
    }
  }

  snapshotFor(proxy: ProxyInfo): CachedSnapshot | undefined {
    return this.#current(this.#entry(proxy));
  }

  watch(proxy: ProxyInfo, listener: () => void): SnapshotWatch {
    const entry = this.#entry(proxy);
    entry.watchers.add(listener);
    return {
      groupKey: entry.key,
      snapshot: () => this.#current(entry),
      cancel: () => {
        // The entry stays memoized for a while, so a reconnecting proxy reuses it.
        if (entry.watchers.delete(listener) && entry.watchers.size === 0) {
          entry.idleSince = Date.now();
          this.#idled();
        }
      },
    };
  }

  groups(): GroupStatus[] {
    return [...this.#groups.values()].map((e) => ({
      group: e.key,
      watchers: e.watchers.size,
      snapshotVersion: e.snapshot?.version,
      modelVersion: e.snapshot?.modelVersion,
      problems: e.problems,
    }));
  }

  #entry(proxy: ProxyInfo): GroupEntry {
    const key = proxyGroupKey(proxy);
    let entry = this.#groups.get(key);
    if (entry === undefined) {
      entry = { key, proxy, watchers: new Set(), idleSince: Date.now(), problems: [] };
      this.#groups.set(key, entry);
      snapshotMetrics.groups.set(this.#groups.size);
      this.#sweep ??= setTimeout(() => this.#sweepIdle(), this.#idleTtlMs).unref();
    }
    return entry;
  }

  #current(entry: GroupEntry): CachedSnapshot | undefined {
    const model = this.#model;
    if (model !== undefined && entry.attemptedModel !== model.version) this.#build(entry, model);
    return entry.snapshot;
  }

  #build(entry: GroupEntry, model: MeshModel): void {
    entry.attemptedModel = model.version;
    snapshotMetrics.generations.inc();
    let set: ResourceSet;
    try {
      set = this.#generate(model, entry.proxy);
    } catch (err) {
      this.#reject(entry, model, 'generate_failed', [`generator threw: ${errorMessage(err)}`]);
      return;
    }
    const problems = this.#check(set);
    if (problems.length > 0) {
      this.#reject(entry, model, 'inconsistent', problems);
      return;
    }
    const encoded = encodeResourceSet(set);
    if (encoded.problems.length > 0) {
      this.#reject(entry, model, 'inconsistent', encoded.problems);
      return;
    }
    const resources = new Map<TypeUrl, ReadonlyMap<string, EncodedResource>>();
    const typeVersions = new Map<TypeUrl, string>();
    for (const typeUrl of pushOrder) {
      const byName = encoded.resources.get(typeUrl) ?? new Map<string, EncodedResource>();
      const version = typeVersion(byName);
      resources.set(
        typeUrl,
        typeMaps.intern(`${typeUrl}|${version}`, () => byName),
      );
      typeVersions.set(typeUrl, version);
    }
    const version = hashStrings(pushOrder.map((t) => typeVersions.get(t) ?? ''));
    entry.snapshot = { version, resources, typeVersions, edsNames: encoded.edsNames, modelVersion: model.version };
    entry.problems = [];
    this.#log.debug({ group: entry.key, modelVersion: model.version, version }, 'snapshot published');
  }

  #reject(entry: GroupEntry, model: MeshModel, reason: string, problems: readonly string[]): void {
    entry.problems = problems;
    snapshotMetrics.rejected.inc({ reason });
    this.#log.error(
      {
        group: entry.key,
        modelVersion: model.version,
        reason,
        problems: problems.slice(0, 20),
        problemCount: problems.length,
        servingVersion: entry.snapshot?.version,
      },
      'snapshot not published, last good kept',
    );
  }
}
