// Drives a root (or intermediate) rotation (the phase machine in src/ca/root-rotation.ts) on a
// running control plane. Every pass is level-triggered: read the store (current CA, next CA,
// recorded phase), put the phase's material in service (SDS secrets, xDS serving certificate;
// idempotent), count the connected proxies that ACKed it — from the ADS streams' ACKed
// resource versions, compared with the versions of the current secrets — and move on when all
// did. The phase is written back to the store after each move, so a restarted process (or
// another replica) continues where this one stopped.
import { loadCa, type CaMaterial, type CertificateAuthority } from '../ca/authority.ts';
import {
  advance,
  ROTATION_PHASES,
  servingMaterial,
  signingFingerprint,
  startRotation,
  unionBundle,
  workloadMaterial,
  type RotationPhase,
  type RotationState,
} from '../ca/root-rotation.ts';
import type { RotationStore } from '../identity/ca-dir.ts';
import { ReconcileLoop } from '../base/reconcile-loop.ts';
import { systemClock, type Clock } from '../base/clock.ts';
import { certificateExpiry } from '../base/metrics.ts';
import type { Logger } from '../base/log.ts';
import { errorMessage } from '../base/errors.ts';
import type { StreamDebug } from '../../xds/server/stream-debug.ts';
import type { XdsSecurity } from './xds-security.ts';
import { rotationAcks, withReplicas, type RotationAcks } from './root-rotation-acks.ts';
import { rotationMetrics as metrics } from './root-rotation-metrics.ts';

export { rotationAcks, type RotationAcks } from './root-rotation-acks.ts';

export interface RootRotationOptions {
  readonly store: RotationStore;
  readonly security: Pick<XdsSecurity, 'setCa' | 'expected' | 'reportRotation'>;
  /** The connected ADS streams (ControlPlane.xds.ads.debug()). */
  readonly streams: () => readonly StreamDebug[];
  readonly trustDomain: string;
  /** Pass period (default 2 s); a phase change runs the next pass at once. */
  readonly intervalMs?: number;
  /** Minimum time in each phase (default 0). */
  readonly soakMs?: number;
  /**
   * No phase is left during this long after the process started (default 10 s): after a
   * restart the proxies are still reconnecting, and "0 of 0 ACKed" would prove nothing.
   */
  readonly settleMs?: number;
  /**
   * A proxy seen during the rotation that disconnected still counts as not ACKed for this long
   * (default 2 min): it may only have lost its xDS stream while it keeps serving traffic with
   * the secrets it holds. Reconnected, it gets the current ones at once.
   */
  readonly absentGraceMs?: number;
  /**
   * Several replicas serve proxies (weft controller): only the leader starts, advances and
   * finishes a rotation, counting the ACKs every replica reports through the store; the others
   * apply the recorded phase and report theirs. Default: this process is alone and leads.
   */
  readonly leader?: () => boolean;
  /** This replica's name in the store's ACK reports. */
  readonly replica?: string;
  /** The other live replicas, named as in the store's reports: each must report the phase before the leader leaves it. */
  readonly peers?: () => readonly string[];
  /** Besides SDS and xDS TLS: what else follows the phase (the webhook's serving certificate, caBundle and injected bundle). */
  readonly onApply?: (m: AppliedMaterial) => Promise<void>;
  readonly clock?: Clock;
  readonly log: Logger;
}

export interface AppliedMaterial {
  /** Signs serving certificates (xDS, webhook) and its bundle verifies client certificates. */
  readonly serving: CertificateAuthority;
  /**
   * What a client verifying a serving certificate must trust in this phase (webhook caBundle,
   * sidecar bootstraps): old + new roots until `done`, since replicas switch their serving
   * certificates at slightly different moments in `retire`.
   */
  readonly clientTrustPem: string;
}

export interface RotationStatus {
  readonly phase: RotationPhase | 'idle';
  readonly since?: string;
  readonly proxies?: number;
  readonly acked?: number;
  readonly waiting?: string;
  readonly lagging?: readonly string[];
  /** Phases of the rotation in progress, or of the last one finished, with their durations. */
  readonly history?: readonly { readonly phase: RotationPhase; readonly since: string; readonly ms?: number; readonly proxies?: number }[];
  readonly lastError?: string;
}

export class RootRotation {
  readonly #o: RootRotationOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #loop: ReconcileLoop;
  #status: RotationStatus = { phase: 'idle' };
  /** `${phase}|${next}` last put in service, to log it once. */
  #applied = '';
  #reported = { key: '', at: 0 };
  readonly #startedAt: number;
  /** Proxies (id and identity) seen during the rotation in progress → when last connected (monotonic). */
  readonly #seen = new Map<string, number>();

  constructor(opts: RootRotationOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.log.child({ component: 'ca-rotation' });
    this.#startedAt = this.#clock.monotonic();
    this.#loop = new ReconcileLoop({
      pass: () => this.pass(),
      onError: (err) => this.#fail(err),
      intervalMs: opts.intervalMs ?? 2_000,
      clock: this.#clock,
    });
    opts.security.reportRotation(() => this.status());
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  status(): RotationStatus {
    return this.#status;
  }

  /** One level-triggered pass (start() runs it periodically); exported for tests and the first apply. */
  async pass(): Promise<void> {
    const { current, next, state: recorded, reports } = await this.#o.store.load();
    const leads = this.#o.leader?.() ?? true;
    if (!current) return;
    if (!next) return this.#idle(current);
    const fingerprint = signingFingerprint(next);
    let state = recorded;
    if (state === undefined || state.next !== fingerprint) {
      if (!leads) {
        this.#status = { phase: 'idle', waiting: 'next CA material present: the leader starts the rotation' };
        return;
      }
      const problem = this.#invalid(next);
      if (problem) throw new Error(`next CA: ${problem}`);
      state = startRotation(fingerprint, this.#clock.now());
      await this.#o.store.save(state);
      this.#entered(state, undefined);
    }
    if (state.phase === 'done') return leads ? this.#finish(state, next) : this.#apply(state, current, next);
    await this.#apply(state, current, next);
    const own = this.#withAbsent(rotationAcks(this.#o.streams(), this.#o.security.expected, state.phase));
    await this.#report(state, own);
    if (!leads) {
      this.#status = statusOf(state, own, `${state.phase}: this replica applied it; the leader advances`);
      return;
    }
    const acks = withReplicas(state, own, reports ?? [], {
      ...(this.#o.replica !== undefined ? { self: this.#o.replica } : {}),
      since: this.#clock.now() - (this.#o.intervalMs ?? 2_000) * 15,
      ...(this.#o.peers ? { peers: this.#o.peers() } : {}),
    });
    metrics.proxies.set({ state: 'connected' }, acks.proxies);
    metrics.proxies.set({ state: 'acked' }, acks.current);
    const settling = this.#clock.monotonic() - this.#startedAt < (this.#o.settleMs ?? 10_000);
    if (settling) {
      this.#status = statusOf(state, acks, `${state.phase}: waiting for proxies to reconnect after start`);
      return;
    }
    const r = advance(state, { applied: true, ...acks }, this.#clock.now(), this.#o.soakMs !== undefined ? { soakMs: this.#o.soakMs } : {});
    // After a move the ACKs counted were the previous phase's: none of the new one's yet.
    this.#status = r.moved ? statusOf(r.state, { ...acks, current: 0, lagging: [] }, `${r.state.phase}: applying`) : statusOf(r.state, acks, r.waiting);
    if (!r.moved) return;
    await this.#o.store.save(r.state);
    this.#entered(r.state, r.from);
    void this.#loop.trigger(); // apply the next phase now, not a period later
  }

  /** Adds the proxies seen earlier in this rotation that are gone for less than the grace, as not ACKed. */
  #withAbsent(acks: RotationAcks & { connected?: readonly string[] }): RotationAcks {
    const now = this.#clock.monotonic();
    for (const key of acks.connected ?? []) this.#seen.set(key, now);
    const connected = new Set(acks.connected ?? []);
    const absent: string[] = [];
    for (const [key, at] of this.#seen) {
      if (connected.has(key)) continue;
      if (now - at >= (this.#o.absentGraceMs ?? 120_000)) this.#seen.delete(key);
      else absent.push(`${key.split('|')[0]} (disconnected)`);
    }
    if (absent.length === 0) return acks;
    return { proxies: acks.proxies + absent.length, current: acks.current, lagging: [...acks.lagging, ...absent].slice(0, 10) };
  }

  /** Sends this replica's count to the store (when it changed, or every 10 s as a heartbeat). */
  async #report(state: RotationState, acks: RotationAcks): Promise<void> {
    const store = this.#o.store;
    if (!store.report || this.#o.replica === undefined) return;
    const key = `${state.phase}|${state.next}|${acks.proxies}|${acks.current}`;
    const now = this.#clock.now();
    if (key === this.#reported.key && now - this.#reported.at < 10_000) return;
    await store.report({ replica: this.#o.replica, phase: state.phase, next: state.next, proxies: acks.proxies, acked: acks.current, at: now });
    this.#reported = { key, at: now };
  }

  async #idle(current: CaMaterial): Promise<void> {
    if (this.#status.phase !== 'idle' && this.#status.phase !== 'done') this.#log.warn('rotation material gone from the store; rotation abandoned');
    if (this.#status.phase !== 'done') this.#status = { phase: 'idle' };
    for (const p of ROTATION_PHASES) metrics.phase.set({ phase: p }, 0);
    // Another replica finished (or the rotation was abandoned): serve the stored material alone.
    const key = `idle|${signingFingerprint(current)}`;
    if (this.#applied === '' || this.#applied === key) return;
    const ca = this.#ca(current);
    await this.#o.security.setCa({ workload: ca, serving: ca });
    await this.#o.onApply?.({ serving: ca, clientTrustPem: ca.trustBundlePem });
    this.#applied = key;
    this.#seen.clear();
    this.#log.info('stored CA material in service alone');
  }

  #invalid(next: CaMaterial): string | undefined {
    const r = loadCa(next, { trustDomain: this.#o.trustDomain, now: new Date(this.#clock.now()) });
    return r.ok ? undefined : r.errors.map((e) => `${e.field}: ${e.reason}`).join('; ');
  }

  #ca(material: CaMaterial): CertificateAuthority {
    const r = loadCa(material, { trustDomain: this.#o.trustDomain, now: new Date(this.#clock.now()) });
    if (!r.ok) throw new Error(r.errors.map((e) => `${e.field}: ${e.reason}`).join('; '));
    return r.ca;
  }

  async #apply(state: RotationState, current: CaMaterial, next: CaMaterial): Promise<void> {
    const workload = this.#ca(workloadMaterial(state.phase, current, next));
    const serving = this.#ca(state.phase === 'done' ? next : servingMaterial(state.phase, current, next));
    await this.#o.security.setCa({ workload, serving });
    await this.#o.onApply?.({ serving, clientTrustPem: state.phase === 'done' ? serving.trustBundlePem : unionBundle(current, next) });
    const key = `${state.phase}|${state.next}`;
    if (key === this.#applied) return;
    this.#applied = key;
    this.#log.info(
      { phase: state.phase, roots: countCerts(workload.trustBundlePem), signer: state.phase === 'trust' ? 'old' : 'new' },
      'rotation phase in service',
    );
  }

  async #finish(state: RotationState, next: CaMaterial): Promise<void> {
    const ca = this.#ca(next);
    await this.#o.security.setCa({ workload: ca, serving: ca });
    await this.#o.onApply?.({ serving: ca, clientTrustPem: ca.trustBundlePem });
    await this.#o.store.finish(next);
    this.#applied = `idle|${signingFingerprint(next)}`;
    certificateExpiry.set({ certificate: 'ca-root' }, ca.notAfter.getTime() / 1000);
    this.#status = { ...statusOf(state, { proxies: 0, current: 0, lagging: [] }, 'rotation finished'), phase: 'done' };
    this.#seen.clear();
    this.#log.info({ history: state.history }, 'root rotation finished: the new CA is the only one');
  }

  #entered(state: RotationState, from: RotationPhase | undefined): void {
    metrics.transitions.inc({ phase: state.phase });
    for (const p of ROTATION_PHASES) metrics.phase.set({ phase: p }, p === state.phase ? 1 : 0);
    const left = state.history.at(-2);
    if (from !== undefined && left?.ms !== undefined) metrics.duration.set({ phase: from }, left.ms / 1000);
    this.#log.info(
      { phase: state.phase, from, ...(left?.ms !== undefined ? { previousPhaseMs: left.ms } : {}) },
      from ? 'rotation phase advanced' : 'root rotation started',
    );
  }

  #fail(err: unknown): void {
    metrics.errors.inc();
    this.#status = { ...this.#status, lastError: errorMessage(err) };
    this.#log.error({ err: errorMessage(err) }, 'rotation pass failed; retrying');
  }
}

function statusOf(state: RotationState, acks: RotationAcks, waiting: string | undefined): RotationStatus {
  return {
    phase: state.phase,
    since: new Date(state.phaseSince).toISOString(),
    proxies: acks.proxies,
    acked: acks.current,
    ...(waiting ? { waiting } : {}),
    ...(acks.lagging.length > 0 ? { lagging: acks.lagging } : {}),
    history: state.history.map((h) => ({
      phase: h.phase,
      since: new Date(h.since).toISOString(),
      ...(h.ms !== undefined ? { ms: h.ms } : {}),
      ...(h.proxies !== undefined ? { proxies: h.proxies } : {}),
    })),
  };
}

function countCerts(pem: string): number {
  return pem.split('BEGIN CERTIFICATE').length - 1;
}
