// Drives a root (or intermediate) rotation (the phase machine in src/ca/root-rotation.ts) on a
// running control plane. Every pass is level-triggered: read the store (current CA, next CA,
// recorded phase), put the phase's material in service (SDS secrets, xDS serving certificate;
// idempotent), count the connected proxies that ACKed it — from the ADS streams' ACKed
// resource versions, compared with the versions of the current secrets — and move on when all
// did. The phase is written back to the store after each move, so a restarted process (or
// another replica) continues where this one stopped.
import { Counter, Gauge } from 'prom-client';
import { loadCa, type CaMaterial, type CertificateAuthority } from '../ca/authority.ts';
import {
  advance,
  ROTATION_PHASES,
  servingMaterial,
  signingFingerprint,
  startRotation,
  workloadMaterial,
  type RotationPhase,
  type RotationState,
} from '../ca/root-rotation.ts';
import type { RotationStore } from '../identity/ca-dir.ts';
import { ReconcileLoop } from '../base/reconcile-loop.ts';
import { systemClock, type Clock } from '../base/clock.ts';
import { certificateExpiry, metricsRegistry } from '../base/metrics.ts';
import type { Logger } from '../base/log.ts';
import { errorMessage } from '../base/errors.ts';
import type { StreamDebug } from '../../xds/server/stream-debug.ts';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { TRUST_BUNDLE_SECRET, WORKLOAD_CERT_SECRET } from '../../xds/resources/names.ts';
import type { XdsSecurity } from './xds-security.ts';

const metrics = {
  phase: new Gauge({
    name: 'weft_ca_rotation_phase',
    help: 'Root CA rotation: 1 for the phase in progress (trust, sign, retire, done), 0 for the others; all 0 when none runs.',
    labelNames: ['phase'] as const,
    registers: [metricsRegistry],
  }),
  proxies: new Gauge({
    name: 'weft_ca_rotation_proxies',
    help: "Root CA rotation: connected proxies holding secrets (state=connected) and those that ACKed the phase's secrets (state=acked).",
    labelNames: ['state'] as const,
    registers: [metricsRegistry],
  }),
  duration: new Gauge({
    name: 'weft_ca_rotation_phase_duration_seconds',
    help: 'Root CA rotation: how long each phase of the last rotation lasted.',
    labelNames: ['phase'] as const,
    registers: [metricsRegistry],
  }),
  transitions: new Counter({
    name: 'weft_ca_rotation_transitions_total',
    help: 'Root CA rotation phases entered (trust = a rotation started, done = one finished).',
    labelNames: ['phase'] as const,
    registers: [metricsRegistry],
  }),
  errors: new Counter({
    name: 'weft_ca_rotation_errors_total',
    help: 'Root CA rotation passes that failed (invalid next material, store errors); retried on the next pass.',
    registers: [metricsRegistry],
  }),
};

export interface RotationAcks {
  readonly proxies: number;
  readonly current: number;
  /** Up to 10 proxies still holding older secrets (their node ids), for the log and the debug view. */
  readonly lagging: readonly string[];
  /** Every connected proxy with an identity, as `id|identity`. */
  readonly connected?: readonly string[];
}

type Expected = XdsSecurity['expected'];

/**
 * Which connected proxies hold the current secrets: for each stream with an identity, the
 * ACKed version of every secret it subscribed to equals the current one (and, from `sign` on,
 * its certificate comes from the current key). Streams without secrets hold no trust: they count
 * as current. Pure, given the streams and `expected`.
 */
export function rotationAcks(streams: readonly StreamDebug[], expected: Expected, phase: RotationPhase): RotationAcks {
  let proxies = 0;
  let current = 0;
  const lagging: string[] = [];
  const connected: string[] = [];
  for (const s of streams) {
    const identity = s.proxy.identity;
    if (identity === undefined) continue;
    proxies++;
    connected.push(`${s.proxy.id}|${identity}`);
    const t = s.types.find((x) => x.typeUrl === TypeUrl.Secret);
    const subscribed = (name: string) => t !== undefined && (t.subscribed === '*' || t.subscribed.includes(name));
    const want = expected(identity);
    const acked = (name: string) => t?.acked?.get(name)?.version;
    const bundleOk = !subscribed(TRUST_BUNDLE_SECRET) || acked(TRUST_BUNDLE_SECRET) === want.bundle;
    const certOk = !subscribed(WORKLOAD_CERT_SECRET) || (acked(WORKLOAD_CERT_SECRET) === want.cert && (phase === 'trust' || want.currentSigner));
    if (bundleOk && certOk) current++;
    else if (lagging.length < 10) lagging.push(s.proxy.id);
  }
  return { proxies, current, lagging, connected };
}

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
  readonly clock?: Clock;
  readonly log: Logger;
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
    const { current, next, state: recorded } = await this.#o.store.load();
    if (!current || !next) return this.#idle();
    const fingerprint = signingFingerprint(next);
    let state = recorded;
    if (state === undefined || state.next !== fingerprint) {
      const problem = this.#invalid(next);
      if (problem) throw new Error(`next CA: ${problem}`);
      state = startRotation(fingerprint, this.#clock.now());
      await this.#o.store.save(state);
      this.#entered(state, undefined);
    }
    if (state.phase === 'done') return this.#finish(state, next);
    await this.#apply(state, current, next);
    const acks = this.#withAbsent(rotationAcks(this.#o.streams(), this.#o.security.expected, state.phase));
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

  #idle(): void {
    if (this.#status.phase !== 'idle' && this.#status.phase !== 'done') this.#log.warn('rotation material gone from the store; rotation abandoned');
    if (this.#status.phase !== 'done') this.#status = { phase: 'idle' };
    for (const p of ROTATION_PHASES) metrics.phase.set({ phase: p }, 0);
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
    const serving = this.#ca(servingMaterial(state.phase, current, next));
    await this.#o.security.setCa({ workload, serving });
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
    await this.#o.store.finish(next);
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
