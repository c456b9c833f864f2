// Writes each Weft CR's status (conditions Accepted, ResolvedRefs, Programmed and
// observedGeneration) through the /status subresource, only while this replica leads.
// Level-triggered and storm-free: every pass compares the status we want with the status
// the informer last saw and writes only the differences; a write we made is not repeated
// while the informer catches up (or when the server stored it in a normalized form).
// lastTransitionTime moves only when a condition's status changes. Merge patches carry
// the observed resourceVersion (409 → re-read and retry); writes go through a token
// bucket, failures back off per object.
import { HttpMethod } from '@kubernetes/client-node';
import { Counter } from 'prom-client';
import { log as rootLog, type Logger } from '../../base/log.ts';
import { metricsRegistry } from '../../base/metrics.ts';
import { canonicalJson } from '../../model/canonical.ts';
import type { Condition, MeshModel, PolicyStatus } from '../../model/types.ts';
import type { ConfigEntry } from '../../sources/kube-source.ts';
import { KubeApiError, type KubeClient } from '../../k8s/client.ts';
import { Resources } from '../../k8s/resources.ts';
import type { PolicyKind } from '../../api/objects.ts';
import { toObservedStatus, type ObservedStatus, type StatusCondition } from '../../api/observed-status.ts';
import { LocalProgress, type ProxyView } from './programmed.ts';
import { meshTally, programmedCondition } from './aggregate.ts';
import type { ReplicaReport } from './replica-report.ts';
import { TokenBucket } from '../../base/token-bucket.ts';
import { systemClock, type Clock } from '../../base/clock.ts';
import { ReconcileLoop } from '../../base/reconcile-loop.ts';
import { errorMessage } from '../../base/errors.ts';

export interface StatusWriterOptions {
  readonly client: KubeClient;
  /** Current Weft CRs with their observed status (KubeSource.policies). */
  readonly policies: () => readonly ConfigEntry[];
  readonly proxies: ProxyView;
  /** This replica's tallies over `proxies` (shared with the report publisher); default: its own. */
  readonly progress?: LocalProgress;
  /** The live reports of the OTHER replicas (report-watcher.ts); default: none (a single replica). */
  readonly peers?: () => readonly ReplicaReport[];
  /** False until the peers' reports were listed: no status is written before (default: always true). */
  readonly peersSynced?: () => boolean;
  readonly isLeader: () => boolean;
  /** Field manager recorded in managedFields; include the replica identity. */
  readonly fieldManager: string;
  /** Re-evaluation period, so Programmed follows ACKs (default 1 s). */
  readonly resyncMs?: number;
  readonly writesPerSecond?: number;
  readonly burst?: number;
  /**
   * Programmed flips to Pending on every model change until the proxies ACK (usually within
   * milliseconds): a Pending that clears within this grace is never written (default 5 s).
   */
  readonly pendingGraceMs?: number;
  /** A Programmed that only changes its proxy count is rewritten at most this often per CR (default 10 s). */
  readonly programmedMessageIntervalMs?: number;
  /** Time for resyncs, grace periods, backoff and lastTransitionTime (default: the system clock). */
  readonly clock?: Clock;
  readonly log?: Logger;
}

export interface DesiredStatus {
  readonly observedGeneration?: number;
  readonly summary?: string;
  readonly conditions: readonly StatusCondition[];
}

const writes = new Counter({
  name: 'weft_status_writes_total',
  help: 'Status subresource writes of Weft resources, by kind and result (ok, conflict, not_found, error).',
  labelNames: ['kind', 'result'] as const,
  registers: [metricsRegistry],
});

const MAX_MESSAGE = 32_768;

function invalidConditions(e: ConfigEntry): Condition[] {
  const problems = e.result.ok ? [] : e.result.problems.map((p) => `${p.field}: ${p.reason}`);
  const message = `Invalid ${e.kind}: ${problems.join('; ')}`.slice(0, MAX_MESSAGE);
  return [
    { type: 'Accepted', status: 'False', reason: 'Invalid', message },
    { type: 'ResolvedRefs', status: 'Unknown', reason: 'Invalid', message: 'Not evaluated: the resource is invalid' },
    { type: 'Programmed', status: 'False', reason: 'NotAccepted', message: 'Not programmed: the resource is not accepted' },
  ];
}

/** Conditions with lastTransitionTime kept from what is observed when the status did not change. */
export function desiredStatus(
  conditions: readonly Condition[],
  generation: number | undefined,
  observed: ObservedStatus | undefined,
  now: string,
  summary?: string,
): DesiredStatus {
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    ...(summary !== undefined ? { summary: summary.slice(0, 1024) } : {}),
    conditions: conditions.map((c) => {
      const old = observed?.conditions.find((o) => o.type === c.type);
      return {
        type: c.type,
        status: c.status,
        reason: c.reason,
        message: c.message.slice(0, MAX_MESSAGE),
        ...(generation !== undefined ? { observedGeneration: generation } : {}),
        lastTransitionTime: old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : now,
      };
    }),
  };
}

/** Equal ignoring lastTransitionTime (which desiredStatus already carried over). */
function sameStatus(a: DesiredStatus, b: ObservedStatus | undefined): boolean {
  const strip = (s: DesiredStatus | ObservedStatus | undefined) => ({
    observedGeneration: s?.observedGeneration,
    summary: s?.summary,
    conditions: (s?.conditions ?? []).map(({ lastTransitionTime: _t, ...rest }) => rest),
  });
  return canonicalJson(strip(a)) === canonicalJson(strip(b));
}

interface Written {
  readonly hash: string;
  readonly rvBefore?: string;
  readonly rvAfter?: string;
}

export class StatusWriter {
  readonly #o: StatusWriterOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #bucket: TokenBucket;
  readonly #loop: ReconcileLoop;
  readonly #written = new Map<string, Written>();
  readonly #failures = new Map<string, { count: number; notBefore: number }>();
  readonly #pendingSince = new Map<string, number>();
  readonly #lastWriteAt = new Map<string, number>();
  readonly #progress: LocalProgress;

  constructor(opts: StatusWriterOptions) {
    this.#o = opts;
    this.#progress = opts.progress ?? new LocalProgress(opts.fieldManager, opts.proxies, 0);
    this.#log = (opts.log ?? rootLog).child({ component: 'status-writer', fieldManager: opts.fieldManager });
    this.#clock = opts.clock ?? systemClock;
    this.#bucket = new TokenBucket(opts.writesPerSecond ?? 20, opts.burst ?? 50, this.#clock);
    this.#loop = new ReconcileLoop({
      pass: () => this.#pass(),
      onError: (err) => this.#log.error({ err }, 'status pass failed'),
      intervalMs: opts.resyncMs ?? 1000,
      clock: this.#clock,
    });
  }

  start(): void {
    this.#loop.start();
  }

  /** Leadership changed: forget what we wrote, so a new term starts from what the server holds. */
  reset(): void {
    this.#written.clear();
    this.#failures.clear();
    void this.trigger();
  }

  /** A pass now, or right after the running one; resolves when it finished. */
  trigger(): Promise<void> {
    return this.#loop.trigger();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
  }

  /** The status every current CR should have, keyed by entry id; undefined while the model lags. */
  plan(model: MeshModel | undefined): Map<string, { entry: ConfigEntry; conditions: Condition[]; summary?: string }> {
    const out = new Map<string, { entry: ConfigEntry; conditions: Condition[]; summary?: string }>();
    const byKey = new Map<string, PolicyStatus>();
    for (const s of model?.statuses ?? []) byKey.set(`${s.kind} ${s.key}`, s);
    const local = this.#progress.report();
    const peers = this.#o.peers?.() ?? [];
    for (const e of this.#o.policies()) {
      if (!e.result.ok) {
        out.set(e.id, { entry: e, conditions: invalidConditions(e) });
        continue;
      }
      const s = byKey.get(`${e.kind} ${e.namespace}/${e.name}`);
      if (s === undefined || s.generation !== e.generation) continue; // model not rebuilt for this edit yet
      out.set(e.id, {
        entry: e,
        conditions: [...s.conditions, this.#settle(e, programmedCondition(s, meshTally(`${s.kind} ${s.key}`, local, peers)))],
        summary: s.summary,
      });
    }
    return out;
  }

  /**
   * Keeps Programmed from churning: a fresh Pending (proxies still ACKing a new model) and
   * a change of the proxy count alone are held back, the observed condition standing in.
   */
  #settle(e: ConfigEntry, next: Condition): Condition {
    const observed = e.status?.conditions.find((c) => c.type === 'Programmed');
    const now = this.#clock.now();
    if (next.reason !== 'Pending') this.#pendingSince.delete(e.id);
    if (observed === undefined) return next;
    const held: Condition = { type: 'Programmed', status: observed.status, reason: observed.reason, message: observed.message };
    if (next.reason === 'Pending' && observed.reason !== 'Pending') {
      const since = this.#pendingSince.get(e.id) ?? now;
      this.#pendingSince.set(e.id, since);
      if (now - since < (this.#o.pendingGraceMs ?? 5_000)) return held;
    }
    const messageOnly = next.status === observed.status && next.reason === observed.reason && next.message !== observed.message;
    if (messageOnly && now - (this.#lastWriteAt.get(e.id) ?? 0) < (this.#o.programmedMessageIntervalMs ?? 10_000)) return held;
    return next;
  }

  async #pass(): Promise<void> {
    if (!this.#o.isLeader() || this.#o.peersSynced?.() === false) return;
    const now = new Date(this.#clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const live = new Set<string>();
    for (const [id, { entry, conditions, summary }] of this.plan(this.#o.proxies.model())) {
      live.add(id);
      if (this.#loop.stopped || !this.#o.isLeader()) return;
      const desired = desiredStatus(conditions, entry.generation, entry.status, now, summary);
      if (sameStatus(desired, entry.status)) continue;
      const hash = canonicalJson(desired.conditions.map(({ lastTransitionTime: _t, ...c }) => c)) + desired.observedGeneration + (summary ?? '');
      const w = this.#written.get(id);
      if (w && w.hash === hash && (entry.resourceVersion === w.rvBefore || entry.resourceVersion === w.rvAfter)) continue;
      const f = this.#failures.get(id);
      if (f && f.notBefore > this.#clock.now()) continue;
      await this.#bucket.take();
      if (this.#loop.stopped || !this.#o.isLeader()) return;
      await this.#write(entry, conditions, desired, hash, now, summary);
    }
    for (const m of [this.#written, this.#failures, this.#pendingSince, this.#lastWriteAt]) {
      for (const id of m.keys()) if (!live.has(id)) m.delete(id);
    }
  }

  async #write(entry: ConfigEntry, conditions: readonly Condition[], first: DesiredStatus, hash: string, now: string, summary?: string): Promise<void> {
    const kind = entry.kind as PolicyKind;
    const path = `/apis/${Resources[kind].group}/${Resources[kind].version}/namespaces/${encodeURIComponent(entry.namespace)}/${Resources[kind].plural}/${encodeURIComponent(entry.name)}/status`;
    let rv = entry.resourceVersion;
    let desired = first;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const res = await this.#o.client.request<{ metadata?: { resourceVersion?: string } }>(HttpMethod.PATCH, path, {
          query: { fieldManager: this.#o.fieldManager },
          contentType: 'application/merge-patch+json',
          body: { metadata: { resourceVersion: rv }, status: desired },
        });
        this.#written.set(entry.id, {
          hash,
          ...(entry.resourceVersion ? { rvBefore: entry.resourceVersion } : {}),
          ...(res.metadata?.resourceVersion ? { rvAfter: res.metadata.resourceVersion } : {}),
        });
        this.#failures.delete(entry.id);
        this.#lastWriteAt.set(entry.id, this.#clock.now());
        writes.inc({ kind, result: 'ok' });
        this.#log.info(
          { object: entry.id, generation: entry.generation, conditions: desired.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`).join(',') },
          'status written',
        );
        return;
      } catch (err) {
        const code = err instanceof KubeApiError ? err.statusCode : 0;
        if (code === 404) {
          writes.inc({ kind, result: 'not_found' });
          return; // deleted meanwhile; the informer will drop it
        }
        if (code === 409 && attempt < 3) {
          writes.inc({ kind, result: 'conflict' });
          // Re-read the object itself (its status comes with it): RBAC grants get on the
          // resource and only patch/update on the status subresource.
          const fresh = await this.#read(path.slice(0, -'/status'.length)).catch(() => undefined);
          if (fresh === undefined) break;
          rv = fresh.rv;
          desired = desiredStatus(conditions, entry.generation, fresh.status, now, summary);
          await this.#clock.sleep(10 * attempt);
          // Leadership may have moved (or we were stopped) during the re-read: no write then.
          if (this.#loop.stopped || !this.#o.isLeader()) return;
          continue;
        }
        writes.inc({ kind, result: 'error' });
        const f = this.#failures.get(entry.id) ?? { count: 0, notBefore: 0 };
        f.count++;
        f.notBefore = this.#clock.now() + Math.min(60_000, 500 * 2 ** Math.min(f.count, 10));
        this.#failures.set(entry.id, f);
        this.#log.warn({ object: entry.id, statusCode: code, err: errorMessage(err), retryInMs: f.notBefore - this.#clock.now() }, 'status write failed');
        return;
      }
    }
  }

  async #read(path: string): Promise<{ rv?: string; status: ObservedStatus }> {
    const obj = await this.#o.client.request<{ metadata?: { resourceVersion?: string }; status?: unknown }>(HttpMethod.GET, path);
    return { ...(obj.metadata?.resourceVersion ? { rv: obj.metadata.resourceVersion } : {}), status: toObservedStatus(obj.status) };
  }
}
