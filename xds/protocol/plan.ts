// One plan (a push, or the answer to a request): the responses of every type it touches,
// in make-before-break order, and what one type's changes make another type resend.
import { pushOrder, typeOf, type TypeUrl } from '../resources/type-urls.ts';
import type { CachedSnapshot, EncodedResource } from '../snapshot/types.ts';
import type { Known } from './views.ts';
import type { Response, Step, StreamState, TypeState } from './state.ts';

/**
 * Additions in push order (CDS → EDS → LDS → RDS), then removals in reverse (references
 * dropped before their targets); after a type's removal response, what must follow it (CLAs
 * of clusters the CDS removal response (re)introduced, which Envoy needs to finish warming).
 */
export class PushPlan {
  readonly now: Response[] = [];
  // Created on first use: most plans (one type changed, or nothing) need none of them.
  #removals: Map<TypeUrl, Response> | undefined;
  #after: Map<TypeUrl, Response[]> | undefined;
  #resend: Map<TypeUrl, Set<string>> | undefined;
  #split: Set<TypeUrl> | undefined;

  /** The type's removal response (Delta removed_resources, or the second phase of a full-state change). */
  remove(r: Response): void {
    (this.#removals ??= new Map()).set(r.typeUrl, r);
  }

  /** `r` follows the removal response of `source` (or ends the plan when there is none). */
  follow(source: TypeUrl, r: Response): void {
    this.#after ??= new Map();
    this.#after.set(source, [...(this.#after.get(source) ?? []), r]);
  }

  /** `typeUrl` went out in two phases (make before break). */
  split(typeUrl: TypeUrl): void {
    (this.#split ??= new Set()).add(typeUrl);
  }

  /** Names of `typeUrl` to send even if unchanged. */
  resend(typeUrl: TypeUrl, names: Iterable<string>): void {
    this.#resend ??= new Map();
    const set = this.#resend.get(typeUrl) ?? new Set<string>();
    for (const n of names) set.add(n);
    this.#resend.set(typeUrl, set);
  }

  /** Every name of `typeUrl` this plan must resend (in the view or not). */
  resent(typeUrl: TypeUrl): ReadonlySet<string> {
    return this.#resend?.get(typeUrl) ?? noNames;
  }

  /** Names of `typeUrl` this plan must resend, in `view`, sorted. */
  resendOf(typeUrl: TypeUrl, view: { readonly resources: ReadonlyMap<string, unknown> }): string[] {
    const names = this.#resend?.get(typeUrl);
    return names === undefined ? [] : [...names].filter((n) => view.resources.has(n)).sort();
  }

  /** Types split in this plan whose changes resend `typeUrl`. */
  splitSourcesOf(typeUrl: TypeUrl): TypeUrl[] {
    return [...(this.#split ?? [])].filter((t) => typeOf(t).resendOnChange === typeUrl);
  }

  /**
   * Resources of `typeUrl` the client held and that change now: Envoy re-warms them until it
   * gets what they name of the type's `resendOnChange` again (a changed cluster, its CLA).
   */
  noteChanged(typeUrl: TypeUrl, basis: Known, changed: readonly EncodedResource[], snap: CachedSnapshot): void {
    const target = typeOf(typeUrl).resendOnChange;
    if (target === undefined) return;
    for (const c of changed) {
      const name = basis.has(c.name) ? snap.edsNames.get(c.name) : undefined; // the only resendOnChange: cluster → its CLA
      if (name !== undefined) this.resend(target, [name]);
    }
  }

  /** Additions in push order, then removals in reverse push order, each followed by what follows it. */
  ordered(): Response[] {
    if (this.#removals === undefined && this.#after === undefined) return this.now;
    const out = [...this.now];
    for (let i = pushOrder.length - 1; i >= 0; i--) {
      const t = pushOrder[i]!;
      const removal = this.#removals?.get(t);
      if (removal !== undefined) out.push(removal);
      out.push(...(this.#after?.get(t) ?? []));
    }
    return out;
  }
}

const noNames: ReadonlySet<string> = new Set();

/** Plans one type against `snap`, adding to `plan`; returns the type's next state. */
export type PlanType<H extends Known> = (typeUrl: TypeUrl, st: TypeState<H>, snap: CachedSnapshot, plan: PushPlan) => TypeState<H>;

/** Plans `typeUrls` (those the stream has state for), in the order given, as one batch. */
export function planTypes<H extends Known>(
  state: StreamState<H>,
  snap: CachedSnapshot,
  typeUrls: readonly TypeUrl[],
  planType: PlanType<H>,
  plan = new PushPlan(),
): Step<H> {
  let types = state.types;
  for (const typeUrl of typeUrls) {
    const st = types.get(typeUrl);
    if (st === undefined) continue;
    const next = planType(typeUrl, st, snap, plan);
    if (next !== st) types = types.with(typeUrl, next);
  }
  return { state: { ...state, types, batch: state.batch + 1 }, events: [], responses: plan.ordered() };
}

/** A push: every subscribed type in push order. */
export function pushStep<H extends Known>(state: StreamState<H>, snap: CachedSnapshot, planType: PlanType<H>): Step<H> {
  return planTypes(state, snap, pushOrder, planType);
}
