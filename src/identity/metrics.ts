// Proxy authentication metrics: every decision by method and reason (reasons are a closed
// set of codes, never free text), token-cache effectiveness, and JWKS fetches — a reconnect
// storm should move `weft_xds_auth_total` and the cache hits, not the fetches.
import { Counter } from 'prom-client';
import { metricsRegistry } from '../base/metrics.ts';

export const identityMetrics = {
  decisions: new Counter({
    name: 'weft_xds_auth_total',
    help: 'xDS authentication decisions, by method (token, certificate, none), result (ok, rejected) and reason code.',
    labelNames: ['method', 'result', 'reason'] as const,
    registers: [metricsRegistry],
  }),
  tokenCache: new Counter({
    name: 'weft_identity_token_cache_total',
    help: 'ServiceAccount token verifications answered from the verified-token cache (hit) or verified in full (miss).',
    labelNames: ['result'] as const,
    registers: [metricsRegistry],
  }),
  jwksFetches: new Counter({
    name: 'weft_identity_jwks_fetches_total',
    help: "Fetches of the API server's ServiceAccount signing keys (OIDC JWKS).",
    registers: [metricsRegistry],
  }),
  jwksFetchFailures: new Counter({
    name: 'weft_identity_jwks_fetch_failures_total',
    help: 'JWKS fetches that failed or returned something that is not a JWKS.',
    registers: [metricsRegistry],
  }),
  jwksExpired: new Counter({
    name: 'weft_identity_jwks_expired_total',
    help: 'Token verifications refused because the signing keys could not be refreshed for longer than the stale bound (API server unreachable).',
    registers: [metricsRegistry],
  }),
};
