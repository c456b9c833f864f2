// The route list's meaning, checked by evaluating it: a small model of Envoy's first-match
// route selection (path specifiers, header matchers with full-match regexes) is run over
// a grid of requests. Adding a RetryPolicy must never change where a request goes, and a
// request is retried exactly when it is neither on an exempt path nor non-idempotent.
import { describe, expect, it } from 'vitest';
import type { HeaderMatcher, Route, VirtualHost } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { StringMatcher } from '../../xds/gen/envoy/type/matcher/v3/string_pb.js';
import { translate } from '../../xds/translate/index.ts';
import { model, proxylessClient, retry, service, sidecar, split } from './fixtures.ts';

interface Req {
  readonly method: string;
  readonly path: string; // with query
  readonly headers: Readonly<Record<string, string>>;
}

const full = (re: string, s: string) => new RegExp(`^(?:${re})$`).test(s);

function stringMatches(m: StringMatcher | undefined, value: string): boolean {
  const p = m?.matchPattern;
  if (p?.case === 'exact') return value === p.value;
  if (p?.case === 'prefix') return value.startsWith(p.value);
  if (p?.case === 'safeRegex') return full(p.value.regex, value);
  throw new Error(`unexpected string matcher ${p?.case}`);
}

function headerMatches(h: HeaderMatcher, req: Req): boolean {
  const value = h.name === ':method' ? req.method : h.name === ':path' ? req.path : req.headers[h.name];
  if (value === undefined || h.headerMatchSpecifier.case !== 'stringMatch') return false;
  return stringMatches(h.headerMatchSpecifier.value, value);
}

function routeMatches(r: Route, req: Req): boolean {
  const path = req.path.split('?')[0] ?? '';
  const spec = r.match?.pathSpecifier;
  const pathOk =
    spec?.case === 'prefix'
      ? path.startsWith(spec.value)
      : spec?.case === 'path'
        ? path === spec.value
        : spec?.case === 'pathSeparatedPrefix'
          ? path === spec.value || path.startsWith(`${spec.value}/`)
          : spec?.case === 'safeRegex'
            ? full(spec.value.regex, path)
            : false;
  return pathOk && (r.match?.headers ?? []).every((h) => headerMatches(h, req));
}

/** Where the first matching route sends the request, and whether it retries. */
function decide(vh: VirtualHost, req: Req): { dest: string; retried: boolean } {
  const r = vh.routes.find((x) => routeMatches(x, req));
  if (!r || r.action.case !== 'route') return { dest: 'none', retried: false };
  const spec = r.action.value.clusterSpecifier;
  const dest =
    spec.case === 'cluster' ? spec.value : spec.case === 'weightedClusters' ? spec.value.clusters.map((c) => `${c.name}=${c.weight}`).join(',') : '?';
  return { dest, retried: r.action.value.retryPolicy !== undefined };
}

const paths = [
  '/',
  '/api',
  '/api/',
  '/api/pay',
  '/api/pay?x=1',
  '/api/pay/x',
  '/api/payx',
  '/apix',
  '/beta',
  '/beta?x=1',
  '/beta/x',
  '/v2/x',
  '/v2/api/pay',
  '/healthz',
  '/healthz/live',
  '/healthzx',
];
const methods = ['GET', 'POST', 'PATCH', 'PUT'];
const headerSets: Record<string, string>[] = [{}, { 'x-canary': 'true' }, { 'x-version': '2.1' }, { 'x-canary': 'true', 'x-version': '2.0' }];
const requests: Req[] = paths.flatMap((path) => methods.flatMap((method) => headerSets.map((headers) => ({ method, path, headers }))));

const exemptPaths = ['/api/pay', '/beta', '/healthz'];
const exempt = (req: Req) => {
  const p = req.path.split('?')[0] ?? '';
  return exemptPaths.some((e) => p === e || p.startsWith(`${e}/`));
};

const matches = [
  { path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'x-canary', value: 'true' }] },
  { path: { type: 'Exact', value: '/beta' } },
  { path: { type: 'RegularExpression', value: '/v[0-9]+/.*' }, headers: [{ name: 'x-version', type: 'RegularExpression', value: '2\\..*' }] },
];

function vhostOf(set: ReturnType<typeof translate>, port: number): VirtualHost {
  const vh = set.routes.flatMap((r) => r.virtualHosts).find((v) => v.name === `checkout.shop.svc.cluster.local:${port}`);
  if (!vh) throw new Error('checkout virtual host missing');
  return vh;
}

describe.each([
  { flavor: 'sidecar', port: { name: 'http', port: 8080 }, proxy: sidecar(), methodsExempt: true },
  { flavor: 'proxyless', port: { name: 'grpc', port: 8080 }, proxy: proxylessClient(), methodsExempt: false },
])('route semantics ($flavor)', ({ port, proxy, methodsExempt }) => {
  const objects = [
    service('checkout', [port]),
    service('checkout-v1', [port]),
    service('checkout-v2', [port]),
    split('canary', 'checkout', { 'checkout-v1': 90, 'checkout-v2': 10 }, { matches }),
  ];
  const plain = vhostOf(translate(model(...objects), proxy), port.port);
  const policy = retry('checkout', 'checkout', { attempts: 3, retryOn: ['5xx'], exemptPaths });
  const withRetry = vhostOf(translate(model(...objects, policy), proxy), port.port);

  it('a RetryPolicy never changes where a request goes', () => {
    for (const req of requests) expect(decide(withRetry, req).dest, JSON.stringify(req)).toBe(decide(plain, req).dest);
  });

  it('retries exactly the requests that are neither exempt nor non-idempotent', () => {
    for (const req of requests) {
      const nonIdempotent = methodsExempt && (req.method === 'POST' || req.method === 'PATCH');
      expect(decide(withRetry, req).retried, JSON.stringify(req)).toBe(!exempt(req) && !nonIdempotent);
    }
  });

  it('splits only matching requests', () => {
    expect(decide(plain, { method: 'GET', path: '/api/x', headers: { 'x-canary': 'true' } }).dest).toContain('checkout-v2');
    expect(decide(plain, { method: 'GET', path: '/apix', headers: { 'x-canary': 'true' } }).dest).toBe('outbound|8080||checkout.shop.svc.cluster.local');
    expect(decide(plain, { method: 'GET', path: '/beta?x=1', headers: {} }).dest).toContain('checkout-v1');
  });
});
