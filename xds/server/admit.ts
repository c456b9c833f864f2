// Admission of a stream's proxy: the credential (the authentication hook) and the claims the
// credential bounds (scope.ts). One function, so an xDS worker thread can have the primary
// thread — which holds the hook's keys and informers and the model — run it (workers.ts).
import type { AuthCall, Authenticate, AuthNode } from '../../src/identity/auth-hook.ts';
import type { ProxyInfo } from '../resources/proxy.ts';
import { scopeProxy } from './scope.ts';
import type { SnapshotSource } from './stream-types.ts';

export type Admission =
  | { readonly ok: true; readonly proxy: ProxyInfo }
  /** unauthenticated: the credential failed; scope: a claim outside it (`claim`, and the identity). */
  | {
      readonly ok: false;
      readonly refusal: 'unauthenticated' | 'scope';
      readonly reason: string;
      readonly claim?: 'namespace' | 'service';
      readonly identity?: string;
    };

export type Admit = (call: AuthCall, node: AuthNode, proxy: ProxyInfo) => Promise<Admission>;

export function admitWith(authenticate: Authenticate, cache: SnapshotSource): Admit {
  return async (call, node, parsed) => {
    const auth = await authenticate(call, node);
    if (!auth.ok) return { ok: false, refusal: 'unauthenticated', reason: auth.reason };
    const proxy = auth.identity !== undefined ? { ...parsed, identity: auth.identity } : parsed;
    const scoped = scopeProxy(proxy, auth.scope, cache.model);
    if (!scoped.ok) {
      return { ok: false, refusal: 'scope', reason: scoped.reason, claim: scoped.claim, ...(proxy.identity !== undefined ? { identity: proxy.identity } : {}) };
    }
    return { ok: true, proxy: scoped.proxy };
  };
}
