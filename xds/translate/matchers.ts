// Request conditions (path + headers, all must hold) and their Envoy RouteMatch form.
// A route has exactly one path specifier, so when two path conditions must both hold
// (an exempt path inside a split match) the second becomes a `:path` header matcher with
// the same meaning. `:path` carries the query string, route path matching does not: the
// header forms below account for that.
import { create } from '@bufbuild/protobuf';
import { HeaderMatcherSchema, RouteMatchSchema, type HeaderMatcher, type RouteMatch } from '../gen/envoy/config/route/v3/route_components_pb.js';
import { RegexMatcherSchema } from '../gen/envoy/type/matcher/v3/regex_pb.js';
import type { HeaderMatch, RouteMatch as ModelRouteMatch } from '../../src/model/types.ts';

export interface PathCond {
  /** `separatedPrefix` is Gateway API PathPrefix: `/api` matches `/api` and `/api/x`, not `/apix`. */
  readonly kind: 'exact' | 'prefix' | 'separatedPrefix' | 'regex';
  readonly value: string;
}

export interface Cond {
  readonly path?: PathCond;
  readonly headers: readonly HeaderMatcher[];
}

/** Consumer-specific limits: proxyless gRPC supports only prefix, path and safe_regex. */
export interface MatchFlavor {
  readonly proxyless: boolean;
}

/** Escapes RE2 metacharacters so a literal can sit inside a regex. */
export function reEscape(literal: string): string {
  return literal.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

function regexHeader(name: string, regex: string): HeaderMatcher {
  return create(HeaderMatcherSchema, {
    name,
    headerMatchSpecifier: { case: 'stringMatch', value: { matchPattern: { case: 'safeRegex', value: { regex } } } },
  });
}

function exactHeader(name: string, value: string): HeaderMatcher {
  return create(HeaderMatcherSchema, {
    name,
    headerMatchSpecifier: { case: 'stringMatch', value: { matchPattern: { case: 'exact', value } } },
  });
}

function prefixHeader(name: string, value: string): HeaderMatcher {
  return create(HeaderMatcherSchema, {
    name,
    headerMatchSpecifier: { case: 'stringMatch', value: { matchPattern: { case: 'prefix', value } } },
  });
}

/** Safe-regex header matcher on the request method (Envoy retries every method by default). */
export function methodMatcher(methods: readonly string[]): HeaderMatcher {
  return regexHeader(':method', methods.map(reEscape).join('|'));
}

/** Gateway API HeaderMatch → Envoy HeaderMatcher (string_match; the legacy fields are deprecated). */
export function headerMatcher(h: HeaderMatch): HeaderMatcher {
  return h.type === 'Exact' ? exactHeader(h.name, h.value) : regexHeader(h.name, h.value);
}

/** PathPrefix `/api/` means the same as `/api`; `/` stays `/`. */
function normalizePrefix(value: string): string {
  const trimmed = value.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** A TrafficSplit match → condition. No path means every path. */
export function condFromMatch(m: ModelRouteMatch): Cond {
  const headers = m.headers.map(headerMatcher);
  if (!m.path) return { headers };
  const path: PathCond =
    m.path.type === 'Exact'
      ? { kind: 'exact', value: m.path.value }
      : m.path.type === 'PathPrefix'
        ? { kind: 'separatedPrefix', value: normalizePrefix(m.path.value) }
        : { kind: 'regex', value: m.path.value };
  return { path, headers };
}

/** The same path condition as a matcher on the `:path` header (which includes the query). */
function pathAsHeader(p: PathCond): HeaderMatcher {
  switch (p.kind) {
    case 'exact':
      return regexHeader(':path', `${reEscape(p.value)}(\\?.*)?`);
    case 'prefix':
      return prefixHeader(':path', p.value);
    case 'separatedPrefix':
      return p.value === '/' ? prefixHeader(':path', '/') : regexHeader(':path', `${reEscape(p.value)}([/?].*)?`);
    case 'regex':
      return regexHeader(':path', `(?:${p.value})(\\?.*)?`);
  }
}

const isAll = (p: PathCond) => (p.kind === 'prefix' || p.kind === 'separatedPrefix') && p.value === '/';

/** Whether the literal path satisfies a non-regex condition. */
function covers(path: string, p: PathCond): boolean {
  if (p.kind === 'exact') return path === p.value;
  if (p.kind === 'prefix') return path.startsWith(p.value);
  return isAll(p) || path === p.value || path.startsWith(`${p.value}/`);
}

/**
 * Paths satisfying both conditions as ONE condition, when literals allow deciding it:
 * a PathCond, null when no path can satisfy both, undefined when a regex is involved.
 */
export function intersectPaths(a: PathCond, b: PathCond): PathCond | null | undefined {
  if (isAll(a)) return b;
  if (isAll(b)) return a;
  if (a.kind === 'regex' || b.kind === 'regex') return undefined;
  if (a.kind === 'exact') return covers(a.value, b) ? a : null;
  if (b.kind === 'exact') return covers(b.value, a) ? b : null;
  // Both prefix-like. A separated prefix S is {S} plus the plain prefix `S/`.
  const [x, y] = a.kind === 'prefix' ? [a, b] : [b, a];
  if (x.kind === 'prefix' && y.kind === 'prefix') {
    return x.value.startsWith(y.value) ? x : y.value.startsWith(x.value) ? y : null;
  }
  if (x.kind === 'prefix') {
    // prefix P ∩ separated S: P inside S's subtree → P; S inside P → S; else disjoint.
    if (x.value.startsWith(`${y.value}/`)) return x;
    return y.value.startsWith(x.value) ? y : null;
  }
  if (x.value === y.value || x.value.startsWith(`${y.value}/`)) return x;
  return y.value.startsWith(`${x.value}/`) ? y : null;
}

/**
 * Conjunction of two conditions, or undefined when no request can satisfy both (the
 * route is then left out). Literal paths are intersected into one path specifier; with a
 * regex the first path stays the specifier and the second becomes a `:path` matcher.
 */
export function andCond(a: Cond, b: Cond): Cond | undefined {
  const headers = [...a.headers, ...b.headers];
  if (!a.path || !b.path) {
    const path = a.path ?? b.path;
    return { ...(path ? { path } : {}), headers };
  }
  const both = intersectPaths(a.path, b.path);
  if (both === null) return undefined;
  if (both) return { path: both, headers };
  return { path: a.path, headers: [...a.headers, pathAsHeader(b.path), ...b.headers] };
}

function pathSpecifier(p: PathCond | undefined, flavor: MatchFlavor): RouteMatch['pathSpecifier'] {
  if (!p) return { case: 'prefix', value: '/' };
  switch (p.kind) {
    case 'exact':
      return { case: 'path', value: p.value };
    case 'prefix':
      return { case: 'prefix', value: p.value };
    case 'separatedPrefix':
      if (p.value === '/') return { case: 'prefix', value: '/' };
      return flavor.proxyless
        ? { case: 'safeRegex', value: create(RegexMatcherSchema, { regex: `${reEscape(p.value)}(/.*)?` }) }
        : { case: 'pathSeparatedPrefix', value: p.value };
    case 'regex':
      return { case: 'safeRegex', value: create(RegexMatcherSchema, { regex: p.value }) };
  }
}

export function routeMatch(c: Cond, flavor: MatchFlavor): RouteMatch {
  return create(RouteMatchSchema, { pathSpecifier: pathSpecifier(c.path, flavor), headers: [...c.headers] });
}
