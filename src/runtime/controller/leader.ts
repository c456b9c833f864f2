// Leader election on a coordination.k8s.io/v1 Lease, the client-go/controller-runtime way:
// every change is a read-modify-write guarded by resourceVersion, so two replicas can never
// both succeed in taking the lease. A lease held by someone else counts as expired only after
// leaseDuration has passed on OUR clock since we last saw its record change (clock skew
// between replicas cannot shorten it). The leader renews every retryPeriod and steps down
// if it could not renew for renewDeadline; release() hands the lease over at once
// (holderIdentity emptied) so a graceful shutdown fails over in about one retryPeriod.
import { EventEmitter } from 'node:events';
import { HttpMethod } from '@kubernetes/client-node';
import { Counter, Gauge } from 'prom-client';
import { log as rootLog, type Logger } from '../../base/log.ts';
import { metricsRegistry } from '../../base/metrics.ts';
import { systemClock, type Clock } from '../../base/clock.ts';
import { KubeApiError, type KubeClient } from '../../k8s/client.ts';
import { Resources, namespacedCollectionPath, objectPath } from '../../k8s/resources.ts';
import { errorMessage } from '../../base/errors.ts';

export interface LeaderElectionOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  /** Lease name; default `weft-controller`. */
  readonly name?: string;
  /** Unique per replica: pod name, or hostname_pid. */
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  /** Monotonic time for expiry and deadlines, wall time for the lease's timestamps (default: the system clock). */
  readonly clock?: Clock;
  readonly log?: Logger;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

const isLeaderGauge = new Gauge({
  name: 'weft_leader_is_leader',
  help: '1 while this replica holds the leader lease.',
  labelNames: ['lease'] as const,
  registers: [metricsRegistry],
});
const transitions = new Counter({
  name: 'weft_leader_transitions_total',
  help: 'Leadership changes of this replica, by direction (acquired, lost, released).',
  labelNames: ['lease', 'direction'] as const,
  registers: [metricsRegistry],
});

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

type Attempt = 'held' | 'other' | 'error';

export interface LeaderEvents {
  started: [];
  stopped: [reason: string];
}

export class LeaderElector extends EventEmitter<LeaderEvents> {
  readonly identity: string;
  readonly leaseName: string;
  readonly #o: LeaderElectionOptions;
  readonly #log: Logger;
  readonly #durationMs: number;
  readonly #deadlineMs: number;
  readonly #retryMs: number;
  readonly #clock: Clock;
  #leader = false;
  #lastRenew = 0;
  #observed = '';
  #observedAt = 0;
  #observedHolder: string | undefined;
  #stop = new AbortController();
  #loop: Promise<void> | undefined;
  /** An attempt that was in flight when release() stopped the loop took or renewed the lease. */
  #heldAtStop = false;

  constructor(opts: LeaderElectionOptions) {
    super();
    this.#o = opts;
    this.identity = opts.identity;
    this.leaseName = opts.name ?? 'weft-controller';
    this.#durationMs = opts.leaseDurationMs ?? 15_000;
    this.#deadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.#retryMs = opts.retryPeriodMs ?? 2_000;
    this.#clock = opts.clock ?? systemClock;
    if (!(this.#durationMs > this.#deadlineMs && this.#deadlineMs > this.#retryMs)) {
      throw new Error('leader election needs leaseDuration > renewDeadline > retryPeriod');
    }
    this.#log = (opts.log ?? rootLog).child({ component: 'leader', lease: `${opts.namespace}/${this.leaseName}`, identity: opts.identity });
    isLeaderGauge.set({ lease: this.leaseName }, 0);
  }

  /** False as soon as renewDeadline passed without a renewal, even while a renew is still hanging. */
  isLeader(): boolean {
    return this.#leader && this.#clock.monotonic() - this.#lastRenew <= this.#deadlineMs;
  }

  /** The holder we last saw on the lease (may be us). */
  holder(): string | undefined {
    return this.#observedHolder;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops campaigning; if leading, empties holderIdentity so another replica takes over now. */
  async release(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    if (!this.#leader && !this.#heldAtStop) return;
    this.#heldAtStop = false;
    try {
      const lease = await this.#get();
      if (lease?.spec?.holderIdentity === this.identity) {
        const spec: LeaseSpec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date(this.#clock.now())) };
        await this.#o.client.request(HttpMethod.PUT, this.#path(), { body: { ...lease, spec }, timeoutMs: 5_000 });
        this.#log.info('leader lease released');
      }
    } catch (err) {
      this.#log.warn({ err: errorMessage(err), statusCode: (err as KubeApiError).statusCode }, 'could not release the leader lease; it will expire');
    }
    this.#setLeader(false, 'released');
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    this.#log.info({ leaseDurationMs: this.#durationMs, renewDeadlineMs: this.#deadlineMs, retryPeriodMs: this.#retryMs }, 'campaigning for leadership');
    while (!signal.aborted) {
      const result = await this.#tryAcquireOrRenew();
      if (signal.aborted) {
        this.#heldAtStop = result === 'held';
        break;
      }
      const now = this.#clock.monotonic();
      if (result === 'held') {
        this.#lastRenew = now;
        this.#setLeader(true, 'acquired');
      } else if (this.#leader && (result === 'other' || now - this.#lastRenew > this.#deadlineMs)) {
        this.#setLeader(false, 'lost');
      }
      try {
        await this.#clock.sleep(this.#nextDelay(), signal);
      } catch {
        break;
      }
    }
  }

  /** Leaders renew every retryPeriod; followers wake when the observed lease would expire, or after retryPeriod. */
  #nextDelay(): number {
    if (this.#leader || !this.#observedHolder) return this.#retryMs;
    const untilExpiry = this.#observedAt + this.#durationMs - this.#clock.monotonic();
    return Math.max(10, Math.min(this.#retryMs, untilExpiry + 10));
  }

  #setLeader(leader: boolean, direction: 'acquired' | 'lost' | 'released'): void {
    if (this.#leader === leader) return;
    this.#leader = leader;
    isLeaderGauge.set({ lease: this.leaseName }, leader ? 1 : 0);
    transitions.inc({ lease: this.leaseName, direction });
    // A throwing listener must not end the campaign loop (an unhandled rejection, and a
    // leader that stops renewing while isLeader() still says yes).
    try {
      if (leader) {
        this.#log.info('became leader');
        this.emit('started');
      } else {
        this.#log.warn({ reason: direction }, 'no longer leader');
        this.emit('stopped', direction);
      }
    } catch (err) {
      this.#log.error({ err }, 'leadership listener threw');
    }
  }

  #path(): string {
    return objectPath(Resources.Lease, this.#o.namespace, this.leaseName);
  }

  async #get(): Promise<Lease | undefined> {
    try {
      return await this.#o.client.request<Lease>(HttpMethod.GET, this.#path(), { timeoutMs: this.#retryMs * 2 });
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  #observe(spec: LeaseSpec | undefined): void {
    const record = JSON.stringify(spec ?? {});
    if (record !== this.#observed) {
      this.#observed = record;
      this.#observedAt = this.#clock.monotonic();
    }
    this.#observedHolder = spec?.holderIdentity || undefined;
  }

  async #tryAcquireOrRenew(): Promise<Attempt> {
    const now = microTime(new Date(this.#clock.now()));
    const durationSeconds = Math.max(1, Math.ceil(this.#durationMs / 1000));
    const timeoutMs = this.#retryMs * 2;
    try {
      const lease = await this.#get();
      if (lease === undefined) {
        const spec: LeaseSpec = { holderIdentity: this.identity, leaseDurationSeconds: durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 };
        const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.leaseName, namespace: this.#o.namespace }, spec };
        const created = await this.#o.client.request<Lease>(HttpMethod.POST, namespacedCollectionPath(Resources.Lease, this.#o.namespace), { body, timeoutMs });
        this.#observe(created.spec);
        return 'held';
      }
      const spec = lease.spec ?? {};
      this.#observe(spec);
      const holder = spec.holderIdentity || undefined;
      const heldByOther = holder !== undefined && holder !== this.identity;
      const durationMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
      if (heldByOther && this.#clock.monotonic() - this.#observedAt < durationMs) return 'other';
      const mine = holder === this.identity;
      const next: LeaseSpec = {
        holderIdentity: this.identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : now,
        renewTime: now,
        leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      };
      // resourceVersion in the body: the API server rejects the update (409) if anyone wrote in between.
      const updated = await this.#o.client.request<Lease>(HttpMethod.PUT, this.#path(), { body: { ...lease, spec: next }, timeoutMs });
      this.#observe(updated.spec);
      if (!mine) this.#log.info({ previousHolder: holder ?? '', transitions: next.leaseTransitions }, 'leader lease acquired');
      return 'held';
    } catch (err) {
      const statusCode = err instanceof KubeApiError ? err.statusCode : 0;
      const fields = { statusCode, err: errorMessage(err) };
      if (statusCode === 409) this.#log.debug(fields, 'leader lease changed under us; retrying');
      else this.#log.warn(fields, 'leader lease acquire/renew failed');
      return 'error';
    }
  }
}
