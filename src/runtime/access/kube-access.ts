// The authenticated debug API of `weft controller`: a bearer token is authenticated by the
// API server (TokenReview) and the user it names is authorized (SubjectAccessReview) for
// `get` on the virtual resource `proxies` in API group `mesh.weft.dev` — cluster-wide today,
// in the request's namespace once views are per namespace (issue 12). RBAC grants it like any
// resource (the chart's `<fullname>-debug-reader` ClusterRole); no such resource needs to
// exist. Decisions are cached briefly per token hash (never the token) so a page that polls
// does not cost the API server two requests per poll, and concurrent asks share one review.
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
  /** Bound on cached decisions (default 1000; the oldest go first). */
  readonly maxCached?: number;
  readonly now?: () => number;
}

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  error?: string;
}

interface SubjectAccessReviewStatus {
  allowed?: boolean;
  denied?: boolean;
  reason?: string;
}

export function kubeAccess(opts: KubeAccessOptions): Authorizer {
  const cacheMs = opts.cacheMs ?? 10_000;
  const maxCached = opts.maxCached ?? 1000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { at: number; decision: Promise<AccessDecision> }>();

  async function review(token: string, namespace: string | undefined): Promise<AccessDecision> {
    let tr: { status?: TokenReviewStatus };
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
    let sar: { status?: SubjectAccessReviewStatus };
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
    describe: `TokenReview + SubjectAccessReview: ${DEBUG_ACCESS.verb} ${DEBUG_ACCESS.resource}.${DEBUG_ACCESS.group}`,
    async check(req: AccessRequest): Promise<AccessDecision> {
      const token = bearerToken(req.authorization);
      if (token === undefined) return { ok: false, status: 401, reason: 'a bearer token is required (Authorization: Bearer <token>)' };
      const key = `${createHash('sha256').update(token).digest('base64url')}|${req.namespace ?? ''}`;
      const t = now();
      const hit = cache.get(key);
      if (hit !== undefined && t - hit.at < cacheMs) return hit.decision;
      const decision = review(token, req.namespace);
      cache.delete(key);
      cache.set(key, { at: t, decision });
      while (cache.size > maxCached) cache.delete(cache.keys().next().value as string);
      // An API server that could not be asked is asked again next time, not cached.
      void decision.then((d) => {
        if (!d.ok && d.status === 503 && cache.get(key)?.decision === decision) cache.delete(key);
      });
      return decision;
    },
  };
}
