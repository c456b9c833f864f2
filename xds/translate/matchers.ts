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

/** Conjunction of two conditions: the first path stays the route's path specifier. */
export function andCond(a: Cond, b: Cond): Cond {
  const path = a.path ?? b.path;
  const extra = a.path && b.path ? [pathAsHeader(b.path)] : [];
  return { ...(path ? { path } : {}), headers: [...a.headers, ...extra, ...b.headers] };
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
