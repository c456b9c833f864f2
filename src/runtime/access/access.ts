// Who may read the control plane's debug API and mesh view (/debug/*, /mesh/api/*): the seam
// every such request passes through. The monitoring server asks an Authorizer; what it checks
// is the Authorizer's business (kube-access.ts: TokenReview + SubjectAccessReview). A request
// carries the namespace it is about when it is about one: scope.ts asks without one for the
// cluster-wide right, then per namespace to narrow views about namespaced things.

export interface AccessRequest {
  /** The Authorization header as sent (`Bearer <token>`), if any. */
  readonly authorization?: string;
  /** The namespace the request reads; undefined: all of them. */
  readonly namespace?: string;
}

export type AccessDecision =
  | { readonly ok: true; readonly user?: string }
  /** 401: no or bad credential; 403: a valid credential without the right; 503: could not ask. */
  | { readonly ok: false; readonly status: 401 | 403 | 503; readonly reason: string };

export interface Authorizer {
  /** What the access is checked against, for logs and docs (e.g. `get proxies.mesh.weft.dev`). */
  readonly describe: string;
  check(req: AccessRequest): Promise<AccessDecision>;
}

/** No check: the listener itself is the boundary (loopback, `weft serve`'s default). */
export const listenerBoundary: Authorizer = {
  describe: 'none (loopback listener)',
  check: async () => ({ ok: true }),
};

/** The token of a `Bearer` Authorization header; undefined when absent or not a bearer credential. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const m = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(authorization ?? '');
  return m?.[1];
}
