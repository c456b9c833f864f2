// Root (or intermediate) rotation as a pure phase machine. An operator supplies the next CA
// material; the control plane then walks three phases, each one applied, then held until every
// connected proxy has ACKed what the phase pushed (and at least `soakMs`), then left:
//
//   trust   sign with the OLD key, trust old + new roots      (proxies learn the new root)
//   sign    sign with the NEW key, trust old + new roots      (every SVID re-issued from it)
//   retire  sign with the NEW key, trust the new roots only   (the old root leaves every proxy)
//   done    the new material replaces the old in the store
//
// The xDS serving certificate keeps the OLD chain until `retire` (servingMaterial): a proxy
// started before the rotation verifies the xDS server against the root in its bootstrap, so it
// can reconnect during the whole overlap. Everything here is a function of (state, observation,
// now): the driver (src/runtime/root-rotation.ts) reads the store and the ADS streams, calls
// `advance`, applies `workloadMaterial`/`servingMaterial` and persists the new state, so any
// replica or restart continues from the recorded phase (level-triggered, idempotent).
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import type { CaMaterial } from './authority.ts';
import { splitCertificates } from './pem.ts';

export const ROTATION_PHASES = ['trust', 'sign', 'retire', 'done'] as const;
export type RotationPhase = (typeof ROTATION_PHASES)[number];

export interface PhaseRecord {
  readonly phase: RotationPhase;
  /** Epoch ms the phase began. */
  readonly since: number;
  /** How long it lasted (set when it was left). */
  readonly ms?: number;
  /** How many proxies had ACKed it when it was left (all that were connected). */
  readonly proxies?: number;
}

/** What the store records (JSON: a file next to the CA, or a Secret annotation). */
export interface RotationState {
  readonly phase: RotationPhase;
  readonly startedAt: number;
  readonly phaseSince: number;
  /** Fingerprint (SHA-256) of the next signing certificate: a different next material restarts the rotation. */
  readonly next: string;
  readonly history: readonly PhaseRecord[];
}

/** What the driver saw this pass. */
export interface RotationObservation {
  /** The phase's material is in service (SDS secrets rebuilt, serving certificate installed). */
  readonly applied: boolean;
  /** Connected proxies that hold secrets (identity known). */
  readonly proxies: number;
  /** Of those, how many ACKed this phase's trust bundle (and, from `sign` on, a certificate from the new key). */
  readonly current: number;
}

export interface AdvanceOptions {
  /** Minimum time in each phase, even when every proxy ACKed at once (default 0). */
  readonly soakMs?: number;
}

export type AdvanceResult =
  | { readonly moved: true; readonly state: RotationState; readonly from: RotationPhase }
  | { readonly moved: false; readonly state: RotationState; readonly waiting: string };

export function startRotation(next: string, now: number): RotationState {
  return { phase: 'trust', startedAt: now, phaseSince: now, next, history: [{ phase: 'trust', since: now }] };
}

const after: Record<RotationPhase, RotationPhase> = { trust: 'sign', sign: 'retire', retire: 'done', done: 'done' };

/** One step: the next phase once this one is applied, ACKed by every proxy and soaked; else why not. */
export function advance(state: RotationState, obs: RotationObservation, now: number, opts: AdvanceOptions = {}): AdvanceResult {
  if (state.phase === 'done') return { moved: false, state, waiting: 'rotation finished' };
  if (!obs.applied) return { moved: false, state, waiting: `${state.phase}: material not in service yet` };
  if (obs.current < obs.proxies) return { moved: false, state, waiting: `${state.phase}: ${obs.current}/${obs.proxies} proxies ACKed` };
  const soakMs = opts.soakMs ?? 0;
  const held = now - state.phaseSince;
  if (held < soakMs) return { moved: false, state, waiting: `${state.phase}: soaking ${Math.ceil((soakMs - held) / 1000)} s more` };
  const phase = after[state.phase];
  const history = state.history.map((h, i) => (i === state.history.length - 1 ? { ...h, ms: now - h.since, proxies: obs.current } : h));
  return { moved: true, from: state.phase, state: { ...state, phase, phaseSince: now, history: [...history, { phase, since: now }] } };
}

/** The roots `m` trusts: its bundle, or the self-signed certificates of its chain. */
export function rootsOf(m: CaMaterial): X509Certificate[] {
  const parse = (pem: string) => splitCertificates(pem).map((b) => new X509Certificate(b));
  return m.trustBundlePem ? parse(m.trustBundlePem) : parse(m.certPem).filter((c) => c.checkIssued(c) && c.verify(c.publicKey));
}

/** PEM of the union of roots, old first, each once (by fingerprint). */
export function unionBundle(...materials: readonly CaMaterial[]): string {
  const seen = new Set<string>();
  let pem = '';
  for (const c of materials.flatMap(rootsOf)) {
    if (seen.has(c.fingerprint256)) continue;
    seen.add(c.fingerprint256);
    pem += c.toString();
  }
  return pem;
}

/** What workload certificates (SDS) are signed with and trust in `phase`. */
export function workloadMaterial(phase: RotationPhase, old: CaMaterial, next: CaMaterial): CaMaterial {
  const both = unionBundle(old, next);
  if (phase === 'trust') return { certPem: old.certPem, keyPem: old.keyPem, trustBundlePem: both };
  if (phase === 'sign') return { certPem: next.certPem, keyPem: next.keyPem, trustBundlePem: both };
  return { certPem: next.certPem, keyPem: next.keyPem, trustBundlePem: unionBundle(next) };
}

/**
 * What the xDS (and webhook) serving certificate is signed with and trusts (client
 * certificates) in `phase`: the old chain until `retire`, so bootstraps holding only the old
 * root verify the server during the whole overlap; from `retire` on, the workload material.
 */
export function servingMaterial(phase: RotationPhase, old: CaMaterial, next: CaMaterial): CaMaterial {
  if (phase === 'trust' || phase === 'sign') return { certPem: old.certPem, keyPem: old.keyPem, trustBundlePem: unionBundle(old, next) };
  return workloadMaterial(phase, old, next);
}

/** SHA-256 fingerprint of the first certificate of a chain ('' when there is none). */
export function signingFingerprint(m: CaMaterial): string {
  const first = splitCertificates(m.certPem)[0];
  return first ? new X509Certificate(first).fingerprint256 : '';
}

const StateSchema = z.object({
  phase: z.enum(ROTATION_PHASES),
  startedAt: z.number(),
  phaseSince: z.number(),
  next: z.string(),
  history: z.array(z.object({ phase: z.enum(ROTATION_PHASES), since: z.number(), ms: z.number().optional(), proxies: z.number().optional() })),
});

/** Parses a recorded state; undefined for anything that is not one (the driver then starts over). */
export function parseRotationState(text: string): RotationState | undefined {
  try {
    const r = StateSchema.safeParse(JSON.parse(text));
    return r.success ? (r.data as RotationState) : undefined;
  } catch {
    return undefined;
  }
}
