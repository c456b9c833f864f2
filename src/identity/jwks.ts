// The API server's ServiceAccount token signing keys, fetched from its OIDC discovery
// (`/.well-known/openid-configuration`, `/openid/v1/jwks`) and cached. A token naming an
// unknown `kid` triggers a refetch (the API server rotated its keys), at most once per
// `minRefetchIntervalMs` and shared by every caller waiting at that moment, so a flood of
// forged kids cannot turn into a flood of requests to the API server. Keys are also
// refetched when older than `maxAgeMs`, so a key the API server stopped publishing (e.g.
// a compromised one) stops verifying tokens within that time. While refetching fails (the API
// server is unreachable) the loaded keys keep verifying for at most `maxStaleMs` more; past
// maxAgeMs + maxStaleMs nothing verifies (keys_unavailable) until a fetch succeeds: otherwise a
// key retired during the outage would verify for as long as the outage lasts (issue 13).
//
// Key selection and import are jose's (a local JWKS set: kid, alg, kty, curve, `use`); the
// fetch policy is ours, not jose's remote set, because the JWKS comes through the API server
// with the kubeconfig's credentials, a failed fetch must not be retried on every token during
// an API server outage, stale keys keep verifying while a refresh fails, and the clock is
// injectable for tests.
import type { KeyObject } from 'node:crypto';
import { request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import * as jose from 'jose';
import { z } from 'zod';
import type { KubeClient } from '../k8s/client.ts';
import { log as rootLog, type Logger } from '../base/log.ts';
import { keyFromJwk, KeysUnavailableError } from './jwt.ts';
import { identityMetrics } from './metrics.ts';
import { errorMessage } from '../base/errors.ts';

/** Returns a JWKS document (`{"keys": [...]}`), as JSON. */
export type JwksFetcher = () => Promise<unknown>;

const JwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())) });

export interface JwksCacheOptions {
  readonly fetch: JwksFetcher;
  /** Minimum time between fetches triggered by unknown kids (default 10 s). */
  readonly minRefetchIntervalMs?: number;
  /** Keys older than this are refetched before use (default 10 min). */
  readonly maxAgeMs?: number;
  /** How long keys past maxAgeMs still verify while refetching fails (default 1 h). */
  readonly maxStaleMs?: number;
  readonly now?: () => number;
  readonly log?: Logger;
}

export type KeyLookup = { ok: true; keys: readonly KeyObject[] } | { ok: false; reason: 'unknown_key' | 'keys_unavailable' };

export class JwksCache {
  readonly #fetch: JwksFetcher;
  readonly #minIntervalMs: number;
  readonly #maxAgeMs: number;
  readonly #maxStaleMs: number;
  readonly #now: () => number;
  readonly #log: Logger;
  #byKid = new Map<string, KeyObject>();
  #all: readonly KeyObject[] = [];
  #set: ((header: jose.JWSHeaderParameters) => Promise<jose.CryptoKey>) | undefined;
  #loaded = false;
  #loadedAt = -Infinity;
  #lastAttempt = -Infinity;
  #inflight: Promise<void> | undefined;
  /** Fetches attempted so far (tests count them; so does weft_identity_jwks_fetches_total). */
  fetches = 0;

  constructor(opts: JwksCacheOptions) {
    this.#fetch = opts.fetch;
    this.#minIntervalMs = opts.minRefetchIntervalMs ?? 10_000;
    this.#maxAgeMs = opts.maxAgeMs ?? 10 * 60_000;
    this.#maxStaleMs = opts.maxStaleMs ?? 60 * 60_000;
    this.#now = opts.now ?? Date.now;
    this.#log = (opts.log ?? rootLog).child({ component: 'jwks' });
  }

  /** Candidate keys for a token: the one with `kid`, or every key when the token names none. */
  async lookup(kid: string | undefined): Promise<KeyLookup> {
    const now = this.#now();
    const unknownKid = kid !== undefined && !this.#byKid.has(kid) && now - this.#lastAttempt >= this.#minIntervalMs;
    if (!this.#loaded || unknownKid || now - this.#loadedAt > this.#maxAgeMs) await this.refresh();
    if (!this.#loaded) return { ok: false, reason: 'keys_unavailable' };
    if (this.#now() - this.#loadedAt > this.#maxAgeMs + this.#maxStaleMs) {
      identityMetrics.jwksExpired.inc();
      return { ok: false, reason: 'keys_unavailable' };
    }
    if (kid === undefined) return this.#all.length > 0 ? { ok: true, keys: this.#all } : { ok: false, reason: 'unknown_key' };
    const key = this.#byKid.get(kid);
    return key ? { ok: true, keys: [key] } : { ok: false, reason: 'unknown_key' };
  }

  /**
   * The verification key for a token's header, for jose's jwtVerify: throws jose's
   * JWKSNoMatchingKey (no published key fits kid, alg and curve), JWKSMultipleMatchingKeys
   * (no kid: try each) or KeysUnavailableError.
   */
  async resolve(header: jose.JWSHeaderParameters): Promise<jose.CryptoKey> {
    const found = await this.lookup(header.kid);
    if (!found.ok) throw found.reason === 'unknown_key' ? new jose.errors.JWKSNoMatchingKey() : new KeysUnavailableError();
    if (this.#set === undefined) throw new KeysUnavailableError();
    return this.#set(header);
  }

  /** Fetches the keys now, unless a fetch is running or ran less than the minimum interval ago. */
  refresh(): Promise<void> {
    if (this.#inflight) return this.#inflight;
    if (this.#loaded && this.#now() - this.#lastAttempt < this.#minIntervalMs) return Promise.resolve();
    // A failed first load is retried at the same pace: never more than one fetch per interval.
    if (!this.#loaded && this.#now() - this.#lastAttempt < Math.min(this.#minIntervalMs, 1_000)) return Promise.resolve();
    this.#lastAttempt = this.#now();
    this.#inflight = this.#load().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #load(): Promise<void> {
    this.fetches++;
    identityMetrics.jwksFetches.inc();
    let doc: unknown;
    try {
      doc = await this.#fetch();
    } catch (err) {
      identityMetrics.jwksFetchFailures.inc();
      this.#log.error({ err: errorMessage(err) }, 'service account signing keys could not be fetched');
      return;
    }
    const parsed = JwksSchema.safeParse(doc);
    if (!parsed.success) {
      identityMetrics.jwksFetchFailures.inc();
      this.#log.error({ issues: parsed.error.issues.slice(0, 5) }, 'service account signing keys: not a JWKS document');
      return;
    }
    const byKid = new Map<string, KeyObject>();
    const all: KeyObject[] = [];
    const usable: jose.JWK[] = [];
    let skipped = 0;
    for (const jwk of parsed.data.keys) {
      const key = keyFromJwk(jwk);
      if (key === undefined) {
        skipped++;
        continue;
      }
      all.push(key);
      usable.push(jwk as jose.JWK);
      if (typeof jwk.kid === 'string') byKid.set(jwk.kid, key);
    }
    this.#byKid = byKid;
    this.#all = all;
    this.#set = jose.createLocalJWKSet({ keys: usable });
    this.#loaded = true;
    this.#loadedAt = this.#now();
    this.#log.info({ keys: all.length, skipped, kids: [...byKid.keys()] }, 'service account signing keys loaded');
  }
}

const DiscoverySchema = z.object({ issuer: z.string().min(1), jwks_uri: z.string().optional() });

/** The API server's OIDC discovery: the issuer tokens carry, and a JWKS fetcher through the API server itself. */
export async function kubeOidc(client: KubeClient): Promise<{ issuer: string; fetchJwks: JwksFetcher }> {
  // Loaded here, where a Kubernetes client exists anyway: `weft serve` imports this module
  // for its token verifier and would otherwise carry the whole client (docs/scale.md "Idle memory").
  const { HttpMethod } = await import('@kubernetes/client-node');
  const doc = DiscoverySchema.safeParse(await client.request(HttpMethod.GET, '/.well-known/openid-configuration'));
  if (!doc.success) throw new Error("the API server's /.well-known/openid-configuration has no issuer");
  // jwks_uri names the issuer's external URL, which may not be reachable from here; the API
  // server serves the same document at this path with our credentials.
  return { issuer: doc.data.issuer, fetchJwks: () => getJwks(client.kubeConfig, `${client.server}/openid/v1/jwks`) };
}

const MAX_JWKS_BYTES = 1 << 20;

/**
 * GET with the kubeconfig's credentials and TLS. The API server answers its JWKS only as
 * `application/jwk-set+json` (406 to KubeClient's `Accept: application/json`).
 */
async function getJwks(kc: KubeConfig, url: string): Promise<unknown> {
  const opts: RequestOptions = { method: 'GET', headers: { Accept: 'application/jwk-set+json, application/json' }, timeout: 10_000 };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = request(url, opts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
        if (body.length > MAX_JWKS_BYTES) req.destroy(new Error('JWKS document too large'));
      });
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${new URL(url).pathname}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
        try {
          resolve(JSON.parse(body));
        } catch {
          reject(new Error(`GET ${new URL(url).pathname}: not JSON`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('JWKS request timed out')));
    req.on('error', reject);
    req.end();
  });
}
