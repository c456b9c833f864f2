// Watches the replicas' report Leases (replica-report.ts) in the control-plane namespace and
// says which are live. A report counts while its Lease is renewed: expiry is judged on OUR
// clock from when we last saw its renewTime change (as leader election does; clock skew
// between replicas cannot stretch or shorten it), so a replica killed without a word stops
// counting one lease duration after its last renewal. A deleted Lease (clean shutdown) stops
// counting at once. The leader also removes Leases dead for long (pod names are not reused).
import { HttpMethod } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../../base/clock.ts';
import { log as rootLog, type Logger } from '../../base/log.ts';
import { KubeApiError, type KubeClient } from '../../k8s/client.ts';
import { SupervisedInformer, type InformerOptions } from '../../k8s/informer.ts';
import { objectPath, Resources } from '../../k8s/resources.ts';
import { Annotations, decodeReport, REPORT_SELECTOR, type ReplicaReport } from './replica-report.ts';

export interface ReportLease {
  readonly name: string;
  readonly holder: string;
  readonly leaseDurationMs: number;
  readonly renewTime: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly report?: ReplicaReport;
}

export interface PeerStatus {
  readonly replica: string;
  readonly lease: string;
  readonly live: boolean;
  readonly podIP?: string;
  readonly monitoringPort?: string;
  readonly configVersion?: string;
  readonly proxies?: number;
  /** Seconds since we saw the Lease renewed. */
  readonly lastRenewalAgeSeconds: number;
}

export interface ReportWatcherOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  /** Our own identity: our report is not a peer. */
  readonly identity: string;
  readonly informer?: Pick<InformerOptions<unknown>, 'stallTimeoutMs' | 'backoff' | 'watchTimeoutSeconds'>;
  readonly onChange?: () => void;
  /** The leader deletes Leases expired for longer than this (default 10 minutes). */
  readonly collectAfterMs?: number;
  readonly clock?: Clock;
  readonly log?: Logger;
}

function toLease(raw: Record<string, unknown>): ReportLease {
  const meta = (raw.metadata ?? {}) as { name?: string; annotations?: Record<string, string> };
  const spec = (raw.spec ?? {}) as { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string };
  const annotations = meta.annotations ?? {};
  const report = decodeReport(annotations[Annotations.report]);
  return {
    name: meta.name ?? '',
    holder: spec.holderIdentity ?? '',
    leaseDurationMs: Math.max(1, spec.leaseDurationSeconds ?? 15) * 1000,
    renewTime: spec.renewTime ?? '',
    annotations,
    ...(report ? { report } : {}),
  };
}

export class ReportWatcher {
  readonly #o: ReportWatcherOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #informer: SupervisedInformer<ReportLease>;
  /** Lease name → the renewTime we last saw and when (monotonic). */
  readonly #seen = new Map<string, { renewTime: string; at: number }>();

  constructor(opts: ReportWatcherOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#log = (opts.log ?? rootLog).child({ component: 'replica-reports' });
    this.#informer = new SupervisedInformer<ReportLease>({
      client: opts.client,
      resource: Resources.Lease,
      namespace: opts.namespace,
      labelSelector: REPORT_SELECTOR,
      transform: toLease,
      equals: (a, b) => a.renewTime === b.renewTime && a.annotations[Annotations.report] === b.annotations[Annotations.report],
      onChange: () => {
        this.#observe();
        opts.onChange?.();
      },
      log: opts.log ?? rootLog,
      ...opts.informer,
    });
  }

  start(): void {
    this.#informer.start();
  }

  stop(): Promise<void> {
    return this.#informer.stop();
  }

  get synced(): boolean {
    return this.#informer.synced;
  }

  #observe(): void {
    const now = this.#clock.monotonic();
    const names = new Set<string>();
    for (const l of this.#informer.list()) {
      names.add(l.name);
      const s = this.#seen.get(l.name);
      if (s?.renewTime !== l.renewTime) this.#seen.set(l.name, { renewTime: l.renewTime, at: now });
    }
    for (const n of this.#seen.keys()) if (!names.has(n)) this.#seen.delete(n);
  }

  #age(l: ReportLease): number {
    const s = this.#seen.get(l.name);
    return s === undefined ? Infinity : this.#clock.monotonic() - s.at;
  }

  /** The reports of the other replicas whose Lease has not expired. */
  peers(): ReplicaReport[] {
    return this.#informer.list().flatMap((l) => (l.holder !== this.#o.identity && l.report && this.#age(l) <= l.leaseDurationMs ? [l.report] : []));
  }

  /** Every report Lease, ours included (for /debug/replicas). */
  status(): PeerStatus[] {
    return this.#informer
      .list()
      .map((l) => ({
        replica: l.holder,
        lease: l.name,
        live: this.#age(l) <= l.leaseDurationMs,
        ...(l.annotations[Annotations.podIP] ? { podIP: l.annotations[Annotations.podIP] } : {}),
        ...(l.annotations[Annotations.monitoringPort] ? { monitoringPort: l.annotations[Annotations.monitoringPort] } : {}),
        ...(l.report ? { configVersion: l.report.configVersion, proxies: l.report.proxies } : {}),
        lastRenewalAgeSeconds: Math.round(this.#age(l) / 100) / 10,
      }))
      .sort((a, b) => (a.lease < b.lease ? -1 : 1));
  }

  /** Deletes the Leases of replicas dead for long (called by the leader; best effort). */
  async collect(): Promise<void> {
    const after = this.#o.collectAfterMs ?? 600_000;
    for (const l of this.#informer.list()) {
      if (l.holder === this.#o.identity || this.#age(l) <= l.leaseDurationMs + after) continue;
      try {
        await this.#o.client.request(HttpMethod.DELETE, objectPath(Resources.Lease, this.#o.namespace, l.name), { timeoutMs: 3000 });
        this.#log.info({ lease: l.name, replica: l.holder }, 'deleted the report of a replica gone for long');
      } catch (err) {
        if (!(err instanceof KubeApiError && err.statusCode === 404)) this.#log.warn({ lease: l.name, err }, 'could not delete a dead replica’s report');
      }
    }
  }
}
