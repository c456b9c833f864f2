// What one request may read, decided once per request from the Authorizer (access.ts): every
// namespace and the mesh-wide views (the cluster-wide right, or no check at all on a loopback
// listener), or only the namespaces the caller holds the right in, asked per namespace as the
// view meets them (the Authorizer caches the answers). Views that are about namespaced things
// (proxies, a proxy's config, the mesh graph) filter through it, so a caller learns nothing of a
// namespace they may not read: not its proxies, not its Services, not that they exist.
import type { AccessDecision, Authorizer } from './access.ts';

export interface ReadScope {
  /** The caller may read every namespace and the mesh-wide views. */
  readonly all: boolean;
  may(namespace: string): Promise<boolean>;
}

/** Response header of scoped views: `all`, or `namespaces` when narrowed to the caller's (a CLI tells "none" from "none you may see"). */
export const SCOPE_HEADER = 'x-weft-scope';

export const everything: ReadScope = { all: true, may: async () => true };

/** For a request no decision was recorded for (never expected): fail closed. */
export const nothing: ReadScope = { all: false, may: async () => false };

export type ScopeDecision = { readonly ok: true; readonly scope: ReadScope } | Extract<AccessDecision, { ok: false }>;

/**
 * The caller's scope. `perNamespace`: the view can be narrowed, so a caller without the
 * cluster-wide right (403) gets a scope of the namespaces they may read instead of a refusal;
 * a missing or bad credential (401) and an API server that could not be asked (503) refuse.
 */
export async function resolveScope(access: Authorizer, authorization: string | undefined, perNamespace: boolean): Promise<ScopeDecision> {
  const auth = authorization !== undefined ? { authorization } : {};
  const whole = await access.check(auth);
  if (whole.ok) return { ok: true, scope: everything };
  if (!perNamespace || whole.status !== 403) return whole;
  return {
    ok: true,
    scope: {
      all: false,
      // A namespace whose review failed (503) is not readable: failing closed hides, never leaks.
      may: async (namespace) => (await access.check({ ...auth, namespace })).ok,
    },
  };
}

/** The namespaces of `namespaces` the scope may read (asked in parallel; each answer is cached by the Authorizer). */
export async function readable(scope: ReadScope, namespaces: Iterable<string>): Promise<ReadonlySet<string>> {
  const all = [...new Set(namespaces)];
  if (scope.all) return new Set(all);
  const allowed = await Promise.all(all.map(async (ns) => ((await scope.may(ns)) ? ns : undefined)));
  return new Set(allowed.filter((ns): ns is string => ns !== undefined));
}
