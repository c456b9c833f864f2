// The authenticated debug API of `weft controller`: a bearer token is authenticated by the
// API server (TokenReview) and the user it names is authorized (SubjectAccessReview) for
// `get` on the virtual resource `proxies` in API group `mesh.weft.dev`, in the namespace the
// request reads (a RoleBinding of the chart's `<fullname>-debug-reader` ClusterRole in
// namespace A grants A's proxies only) or cluster-wide for mesh-wide views. No such resource
// needs to exist. Who a token is and what they may are cached briefly per token hash (never
// the token), bounded, so a page that polls or a list filtered over many namespaces does not
// cost the API server a review per namespace per poll, and concurrent asks share one review.
import { createHash } from 'node:crypto';
import { HttpMethod } from '@kubernetes/client-node';
import { errorMessage } from '../../base/errors.ts';
import type { Logger } from '../../base/log.ts';
import type { KubeClient } from '../../k8s/client.ts';
import { bearerToken, type AccessDecision, type AccessRequest, type Authorizer } from './access.ts';

export const DEBUG_ACCESS = { group: 'mesh.weft.dev', resource: 'proxies', verb: 'get' } as const;

export interface KubeAccessOptions {
  readonly client: Pick<KubeClient, 'request'>;
  readonly log: Logger;
  /** How long a decision is reused (default 10 s); a revoked right stops working after at most this. */
  readonly cacheMs?: number;
  /** Bound on cached entries, users and decisions each (default 1000; the oldest go first). */
  readonly maxCached?: number;
  readonly now?: () => number;
}

interface TokenUser {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

type Authn = { readonly ok: true; readonly user: TokenUser & { username: string } } | Extract<AccessDecision, { ok: false }>;

/** A bounded map of promises that expire; a failure to ask (503) is dropped at once, not cached. */
class BriefCache<V extends { ok: boolean; status?: number }> {
  readonly #entries = new Map<string, { at: number; value: Promise<V> }>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;
  constructor(ttlMs: number, max: number, now: () => number) {
    this.#ttlMs = ttlMs;
    this.#max = max;
    this.#now = now;
  }

  get(key: string, compute: () => Promise<V>): Promise<V> {
    const t = this.#now();
    const hit = this.#entries.get(key);
    if (hit !== undefined && t - hit.at < this.#ttlMs) return hit.value;
    const value = compute();
    this.#entries.delete(key);
    this.#entries.set(key, { at: t, value });
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
    void value.then((v) => {
      if (!v.ok && v.status === 503 && this.#entries.get(key)?.value === value) this.#entries.delete(key);
    });
    return value;
  }
}

export function kubeAccess(opts: KubeAccessOptions): Authorizer {
  const cacheMs = opts.cacheMs ?? 10_000;
  const maxCached = opts.maxCached ?? 1000;
  const now = opts.now ?? Date.now;
  const users = new BriefCache<Authn>(cacheMs, maxCached, now);
  const decisions = new BriefCache<AccessDecision>(cacheMs, maxCached, now);

  async function authenticate(token: string): Promise<Authn> {
    let tr: { status?: { authenticated?: boolean; user?: TokenUser } };
    try {
      tr = await opts.client.request(HttpMethod.POST, '/apis/authentication.k8s.io/v1/tokenreviews', {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
        timeoutMs: 5000,
      });
    } catch (err) {
      opts.log.warn({ err: errorMessage(err) }, 'debug API: TokenReview failed');
      return { ok: false, status: 503, reason: 'could not authenticate the token (TokenReview failed)' };
    }
    const user = tr.status?.user;
    if (tr.status?.authenticated !== true || user?.username === undefined) return { ok: false, status: 401, reason: 'token not authenticated' };
    return { ok: true, user: { ...user, username: user.username } };
  }

  async function authorize(user: TokenUser & { username: string }, namespace: string | undefined): Promise<AccessDecision> {
    let sar: { status?: { allowed?: boolean } };
    try {
      sar = await opts.client.request(HttpMethod.POST, '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: user.username,
            ...(user.uid !== undefined ? { uid: user.uid } : {}),
            groups: user.groups ?? [],
            ...(user.extra !== undefined ? { extra: user.extra } : {}),
            resourceAttributes: { ...DEBUG_ACCESS, ...(namespace !== undefined ? { namespace } : {}) },
          },
        },
        timeoutMs: 5000,
      });
    } catch (err) {
      opts.log.warn({ err: errorMessage(err) }, 'debug API: SubjectAccessReview failed');
      return { ok: false, status: 503, reason: 'could not authorize the user (SubjectAccessReview failed)' };
    }
    if (sar.status?.allowed !== true) {
      const scope = namespace === undefined ? 'cluster-wide' : `in namespace ${namespace}`;
      return { ok: false, status: 403, reason: `${user.username} may not ${DEBUG_ACCESS.verb} ${DEBUG_ACCESS.resource}.${DEBUG_ACCESS.group} ${scope}` };
    }
    return { ok: true, user: user.username };
  }

  return {
    describe: `TokenReview + SubjectAccessReview: ${DEBUG_ACCESS.verb} ${DEBUG_ACCESS.resource}.${DEBUG_ACCESS.group} per namespace`,
    async check(req: AccessRequest): Promise<AccessDecision> {
      const token = bearerToken(req.authorization);
      if (token === undefined) return { ok: false, status: 401, reason: 'a bearer token is required (Authorization: Bearer <token>)' };
      const hash = createHash('sha256').update(token).digest('base64url');
      return decisions.get(`${hash}|${req.namespace ?? ''}`, async () => {
        const who = await users.get(hash, () => authenticate(token));
        return who.ok ? authorize(who.user, req.namespace) : who;
      });
    },
  };
}
