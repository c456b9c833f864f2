// Publishes this replica's report (replica-report.ts) as its Lease `weft-replica-<identity>`.
// Writes are coalesced and rate-limited: one pass a second reads the local tallies; the Lease
// is written when
//  - what the leader decides on changed (configuration version, a resource appearing,
//    becoming fully acknowledged or rejected, a rejection's proxy or message): at once, so at
//    most one write per second;
//  - only counts changed (proxies connecting or leaving): at most every `countIntervalMs`;
//  - nothing changed: a renewal every third of the lease duration (its liveness).
// Endpoint churn changes none of these (the configuration version leaves endpoints out). On
// a clean shutdown the Lease is deleted, so the replica stops counting at once.
import { HttpMethod } from '@kubernetes/client-node';
import { Counter } from 'prom-client';
import { systemClock, type Clock } from '../../base/clock.ts';
import { errorMessage } from '../../base/errors.ts';
import { log as rootLog, type Logger } from '../../base/log.ts';
import { metricsRegistry } from '../../base/metrics.ts';
import { ReconcileLoop } from '../../base/reconcile-loop.ts';
import { KubeApiError, type KubeClient } from '../../k8s/client.ts';
import { namespacedCollectionPath, objectPath, Resources } from '../../k8s/resources.ts';
import { microTime } from './leader.ts';
import type { LocalProgress } from './programmed.ts';
import { Annotations, encodeReport, REPORT_LABELS, reportLeaseName, type ReplicaReport } from './replica-report.ts';

export interface ReportPublisherOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly progress: Pick<LocalProgress, 'identity' | 'report'>;
  readonly leaseDurationMs: number;
  /** Where peers (and weftctl) reach this replica. */
  readonly endpoint: { readonly podIP?: string; readonly monitoringPort?: number; readonly debugPort?: number; readonly xdsPort?: number };
  /**
   * The replica's own Pod: the Lease names it as its owner, so Kubernetes' garbage collector
   * deletes the report with the Pod even when the replica cannot (helm uninstall removes the
   * Role while the Pods are still stopping; a crashed replica never deletes it).
   */
  readonly ownerPod?: { readonly name: string; readonly uid: string };
  readonly passMs?: number;
  readonly countIntervalMs?: number;
  readonly clock?: Clock;
  readonly log?: Logger;
}

export const reportWrites = new Counter({
  name: 'weft_replica_report_writes_total',
  help: 'Writes of this replica’s report Lease, by why (change, counts, renew, delete) and result (ok, error).',
  labelNames: ['why', 'result'] as const,
  registers: [metricsRegistry],
});

interface LeaseObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string }[];
  };
  spec: { holderIdentity: string; leaseDurationSeconds: number; acquireTime: string; renewTime: string };
}

/** What the leader's decision depends on: a change here is written within a second. */
export function decisive(r: ReplicaReport): string {
  const rows = [...r.resources].map(
    ([k, t]) => `${k}:${t.acked === t.affected ? 'all' : 'some'}:${t.rejected > 0 ? `${t.first?.proxy}:${t.first?.message}` : ''}`,
  );
  return [r.configVersion, ...rows.sort()].join('\n');
}

export class ReportPublisher {
  readonly name: string;
  readonly #o: ReportPublisherOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #loop: ReconcileLoop;
  readonly #acquired: string;
  #rv: string | undefined;
  #written: { content: string; decisive: string; at: number } | undefined;
  #failures = 0;
  #notBefore = 0;

  constructor(opts: ReportPublisherOptions) {
    this.#o = opts;
    this.name = reportLeaseName(opts.progress.identity);
    this.#clock = opts.clock ?? systemClock;
    this.#log = (opts.log ?? rootLog).child({ component: 'replica-report', lease: `${opts.namespace}/${this.name}` });
    this.#acquired = microTime(new Date(this.#clock.now()));
    this.#loop = new ReconcileLoop({
      pass: () => this.#pass(),
      onError: (err) => this.#log.error({ err }, 'report pass failed'),
      intervalMs: opts.passMs ?? 1000,
      clock: this.#clock,
    });
  }

  start(): void {
    this.#loop.start();
  }

  /** One pass now (tests drive it on a manual clock). */
  flush(): Promise<void> {
    return this.#loop.trigger();
  }

  /** Stops publishing and deletes the Lease (a clean shutdown stops counting at once). */
  async stop(): Promise<void> {
    await this.#loop.stop();
    if (this.#written === undefined) return;
    try {
      await this.#o.client.request(HttpMethod.DELETE, objectPath(Resources.Lease, this.#o.namespace, this.name), { timeoutMs: 3000 });
      reportWrites.inc({ why: 'delete', result: 'ok' });
      this.#log.info('replica report deleted');
    } catch (err) {
      reportWrites.inc({ why: 'delete', result: 'error' });
      this.#log.warn({ err: errorMessage(err) }, 'could not delete the replica report; it expires with its lease');
    }
  }

  #renewMs(): number {
    return Math.max(500, Math.floor(this.#o.leaseDurationMs / 3));
  }

  async #pass(): Promise<void> {
    const now = this.#clock.monotonic();
    if (now < this.#notBefore) return;
    const report = this.#o.progress.report();
    const content = encodeReport(report);
    const key = decisive(report);
    const w = this.#written;
    let why: 'change' | 'counts' | 'renew' | undefined;
    if (w === undefined || w.decisive !== key) why = 'change';
    else if (w.content !== content && now - w.at >= (this.#o.countIntervalMs ?? 5000)) why = 'counts';
    // Half a pass early: passes land a little before or after a full renewal period, and a
    // late one must not stretch the period to two passes.
    else if (now - w.at >= this.#renewMs() - (this.#o.passMs ?? 1000) / 2) why = 'renew';
    if (why === undefined) return;
    try {
      await this.#write(content);
      this.#written = { content, decisive: key, at: now };
      this.#failures = 0;
      reportWrites.inc({ why, result: 'ok' });
      if (why !== 'renew') this.#log.debug({ why, configVersion: report.configVersion, proxies: report.proxies }, 'replica report written');
    } catch (err) {
      this.#failures++;
      this.#notBefore = now + Math.min(this.#renewMs(), 250 * 2 ** Math.min(this.#failures, 8));
      reportWrites.inc({ why, result: 'error' });
      this.#log.warn(
        { err: errorMessage(err), statusCode: err instanceof KubeApiError ? err.statusCode : 0, failuresInARow: this.#failures },
        'replica report write failed',
      );
    }
  }

  #object(content: string): LeaseObject {
    const e = this.#o.endpoint;
    const annotations: Record<string, string> = { [Annotations.replica]: this.#o.progress.identity, [Annotations.report]: content };
    if (e.podIP) annotations[Annotations.podIP] = e.podIP;
    if (e.monitoringPort !== undefined) annotations[Annotations.monitoringPort] = String(e.monitoringPort);
    if (e.debugPort !== undefined) annotations[Annotations.debugPort] = String(e.debugPort);
    if (e.xdsPort !== undefined) annotations[Annotations.xdsPort] = String(e.xdsPort);
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.name,
        namespace: this.#o.namespace,
        labels: { ...REPORT_LABELS },
        annotations,
        ...(this.#o.ownerPod ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: this.#o.ownerPod.name, uid: this.#o.ownerPod.uid }] } : {}),
        ...(this.#rv ? { resourceVersion: this.#rv } : {}),
      },
      spec: {
        holderIdentity: this.#o.progress.identity,
        leaseDurationSeconds: Math.max(1, Math.ceil(this.#o.leaseDurationMs / 1000)),
        acquireTime: this.#acquired,
        renewTime: microTime(new Date(this.#clock.now())),
      },
    };
  }

  /** PUT with the resourceVersion we hold; create when absent; on a conflict, re-read once. */
  async #write(content: string): Promise<void> {
    const client = this.#o.client;
    const path = objectPath(Resources.Lease, this.#o.namespace, this.name);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        if (this.#rv === undefined) {
          const created = await client.request<{ metadata?: { resourceVersion?: string } }>(
            HttpMethod.POST,
            namespacedCollectionPath(Resources.Lease, this.#o.namespace),
            { body: this.#object(content), timeoutMs: 5000 },
          );
          this.#rv = created.metadata?.resourceVersion;
          return;
        }
        const updated = await client.request<{ metadata?: { resourceVersion?: string } }>(HttpMethod.PUT, path, {
          body: this.#object(content),
          timeoutMs: 5000,
        });
        this.#rv = updated.metadata?.resourceVersion;
        return;
      } catch (err) {
        const code = err instanceof KubeApiError ? err.statusCode : 0;
        if (attempt > 0 || (code !== 409 && code !== 404)) throw err;
        // 409 on create (left by an earlier run of this Pod) or update (changed meanwhile): take its version; 404: create.
        this.#rv =
          code === 404
            ? undefined
            : await client
                .request<{ metadata?: { resourceVersion?: string } }>(HttpMethod.GET, path, { timeoutMs: 5000 })
                .then((o) => o.metadata?.resourceVersion);
      }
    }
  }
}
