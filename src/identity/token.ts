// Verifies a projected ServiceAccount token locally — no TokenReview per connection:
// signature against the API server's keys (jwks.ts), issuer, audience, expiry and
// not-before with a small skew (all three by jose, jwt.ts), the Kubernetes claims, and that the Pod the token is bound
// to still exists with the bound UID (and runs as that ServiceAccount). The identity comes
// from the token's claims only. Tokens whose signature and claims passed are remembered by
// SHA-256 until they expire, so a reconnect storm costs a hash and a pod lookup each.
import { createHash, KeyObject } from 'node:crypto';
import { z } from 'zod';
import { identityProblem, spiffeId } from '../ca/spiffe.ts';
import type { EgressDecision } from '../api/egress.ts';
import type { JwksCache } from './jwks.ts';
import { verifyJwt, type JwtRejection } from './jwt.ts';
import { identityMetrics } from './metrics.ts';

/** What the pod lookup must tell: the Pod's UID and, when known, its ServiceAccount. */
export interface PodRef {
  readonly uid: string;
  readonly serviceAccount?: string;
  /** The Pod's labels, when the lookup knows them (the informer does): the proxy's labels. */
  readonly labels?: Readonly<Record<string, string>>;
  /** The Pod's egress scope (its weft.dev/egress annotation, its Namespace's, or the default), when the lookup knows it. */
  readonly egress?: EgressDecision;
}

/**
 * Finds a live Pod by namespace and name: the controller's pod informer
 * (`(ns, name) => index.pod(ns, name)`) or, in tests, a GET against the API server.
 */
export type PodLookup = (namespace: string, name: string) => PodRef | undefined | Promise<PodRef | undefined>;

export type TokenRejection = JwtRejection | 'not_pod_bound' | 'pod_not_found' | 'pod_uid_mismatch' | 'pod_service_account_mismatch' | 'pod_lookup_failed';

export interface VerifiedToken {
  /** `spiffe://<trust-domain>/ns/<ns>/sa/<sa>`. */
  readonly identity: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly pod: { readonly name: string; readonly uid: string };
  readonly expiresAt: Date;
}

/** `podLabels`, `podEgress`: the bound Pod's labels and egress scope as the lookup saw them now (they change; the token does not). */
export type TokenResult =
  | { ok: true; token: VerifiedToken; podLabels?: Readonly<Record<string, string>>; podEgress?: EgressDecision }
  | { ok: false; code: TokenRejection; reason: string };

export interface TokenVerifierOptions {
  readonly keys: Pick<JwksCache, 'lookup' | 'resolve'>;
  /** Accepted `iss` values (the API server's --service-account-issuer; several during an issuer migration). */
  readonly issuer: string | readonly string[];
  /** Required member of `aud` (default `weft`). */
  readonly audience?: string;
  readonly trustDomain: string;
  readonly podLookup: PodLookup;
  /** Clock skew allowed on exp/nbf/iat (default 30 s). */
  readonly skewMs?: number;
  readonly now?: () => number;
  /** Verified tokens remembered (default 20,000); expired ones are swept first. */
  readonly cacheSize?: number;
}

const Name = z.string().min(1).max(253);
const ClaimsSchema = z.object({
  iss: z.string(),
  sub: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  exp: z.number(),
  nbf: z.number().optional(),
  iat: z.number().optional(),
  'kubernetes.io': z.object({
    namespace: Name,
    serviceaccount: z.object({ name: Name, uid: z.string() }),
    pod: z.object({ name: Name, uid: z.string().min(1) }).optional(),
  }),
});

interface Remembered {
  readonly token: VerifiedToken;
  /** The key that verified the signature, and the kid it was looked up by. */
  readonly key: KeyObject;
  readonly kid: string | undefined;
  readonly expMs: number;
  readonly nbfMs: number;
}

type Rejected = Extract<TokenResult, { ok: false }>;
const reject = (code: TokenRejection, reason: string): Rejected => ({ ok: false, code, reason });

export class TokenVerifier {
  readonly #o: TokenVerifierOptions;
  readonly #issuers: readonly string[];
  readonly #audience: string;
  readonly #skewMs: number;
  readonly #now: () => number;
  readonly #maxCache: number;
  readonly #verified = new Map<string, Remembered>();

  constructor(opts: TokenVerifierOptions) {
    this.#o = opts;
    this.#issuers = typeof opts.issuer === 'string' ? [opts.issuer] : [...opts.issuer];
    this.#audience = opts.audience ?? 'weft';
    this.#skewMs = opts.skewMs ?? 30_000;
    this.#now = opts.now ?? Date.now;
    this.#maxCache = opts.cacheSize ?? 20_000;
  }

  async verify(token: string): Promise<TokenResult> {
    const hash = createHash('sha256').update(token).digest('base64url');
    let entry = this.#verified.get(hash);
    // A remembered token is only as good as its signing key: once the API server stops
    // publishing that key (rotation, compromise), verify again in full (which refuses it).
    if (entry !== undefined && !(await this.#stillPublished(entry))) {
      this.#verified.delete(hash);
      entry = undefined;
    }
    identityMetrics.tokenCache.inc({ result: entry ? 'hit' : 'miss' });
    if (entry === undefined) {
      const checked = await this.#verifyFully(token);
      if (!checked.ok) return checked;
      entry = checked.entry;
      this.#remember(hash, entry);
    }
    const now = this.#now();
    if (now > entry.expMs + this.#skewMs) {
      this.#verified.delete(hash);
      return reject('expired', `token expired at ${new Date(entry.expMs).toISOString()}`);
    }
    if (now + this.#skewMs < entry.nbfMs) return reject('not_yet_valid', `token not valid before ${new Date(entry.nbfMs).toISOString()}`);
    return this.#checkPod(entry.token);
  }

  /** Verified tokens currently remembered. */
  get cached(): number {
    return this.#verified.size;
  }

  async #verifyFully(token: string): Promise<{ ok: true; entry: Remembered } | Rejected> {
    const jwt = await verifyJwt(token, (header) => this.#o.keys.resolve(header), {
      issuers: this.#issuers,
      audience: this.#audience,
      skewMs: this.#skewMs,
      now: this.#now,
    });
    if (!jwt.ok) return jwt;
    const claims = ClaimsSchema.safeParse(jwt.payload);
    if (!claims.success) return reject('bad_claims', 'not a Kubernetes ServiceAccount token (claims missing or malformed)');
    const c = claims.data;
    const k8s = c['kubernetes.io'];
    const ns = k8s.namespace;
    const sa = k8s.serviceaccount.name;
    if (c.sub !== `system:serviceaccount:${ns}:${sa}`) return reject('bad_claims', 'token subject does not match its ServiceAccount claims');
    const problem = identityProblem({ trustDomain: this.#o.trustDomain, namespace: ns, serviceAccount: sa });
    if (problem) return reject('bad_claims', problem);
    if (k8s.pod === undefined) return reject('not_pod_bound', "token is not bound to a Pod (use the projected token of the sidecar's Pod)");
    const expMs = c.exp * 1000;
    if (this.#now() > expMs + this.#skewMs) return reject('expired', `token expired at ${new Date(expMs).toISOString()}`);
    const nbfMs = Math.max(c.nbf ?? 0, c.iat ?? 0) * 1000;
    const verified: VerifiedToken = {
      identity: spiffeId(this.#o.trustDomain, ns, sa),
      namespace: ns,
      serviceAccount: sa,
      pod: { name: k8s.pod.name, uid: k8s.pod.uid },
      expiresAt: new Date(expMs),
    };
    return { ok: true, entry: { token: verified, key: KeyObject.from(jwt.key), kid: jwt.header.kid, expMs, nbfMs } };
  }

  async #stillPublished(entry: Remembered): Promise<boolean> {
    const keys = await this.#o.keys.lookup(entry.kid);
    return keys.ok && keys.keys.some((k) => k === entry.key || k.equals(entry.key));
  }

  async #checkPod(token: VerifiedToken): Promise<TokenResult> {
    let pod: PodRef | undefined;
    try {
      pod = await this.#o.podLookup(token.namespace, token.pod.name);
    } catch {
      return reject('pod_lookup_failed', 'the bound Pod could not be looked up; try again');
    }
    if (pod === undefined) return reject('pod_not_found', `the bound Pod ${token.namespace}/${token.pod.name} does not exist`);
    if (pod.uid !== token.pod.uid)
      return reject('pod_uid_mismatch', `the bound Pod ${token.namespace}/${token.pod.name} was deleted (a new Pod has that name)`);
    if (pod.serviceAccount !== undefined && pod.serviceAccount !== token.serviceAccount) {
      return reject('pod_service_account_mismatch', `the bound Pod does not run as ServiceAccount ${token.serviceAccount}`);
    }
    return {
      ok: true,
      token,
      ...(pod.labels === undefined ? {} : { podLabels: pod.labels }),
      ...(pod.egress === undefined ? {} : { podEgress: pod.egress }),
    };
  }

  #remember(hash: string, entry: Remembered): void {
    if (this.#verified.size >= this.#maxCache) {
      const now = this.#now();
      for (const [h, e] of this.#verified) if (now > e.expMs + this.#skewMs) this.#verified.delete(h);
      // Still full: forget the oldest (Map order is insertion order).
      for (const h of this.#verified.keys()) {
        if (this.#verified.size < this.#maxCache) break;
        this.#verified.delete(h);
      }
    }
    this.#verified.set(hash, entry);
  }
}
