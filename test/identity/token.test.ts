// TokenVerifier and JwksCache against tokens signed by a real key: every rejection has its
// code, the identity comes from the claims only, verified tokens are remembered (but the
// bound pod is re-checked every time), and unknown kids refetch keys at a bounded rate.
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JwksCache } from '../../src/identity/jwks.ts';
import { keyFromJwk, verifyJwt, type JwtCheck } from '../../src/identity/jwt.ts';
import { TokenVerifier, type PodLookup, type PodRef } from '../../src/identity/token.ts';
import { newIssuer, type TestIssuer } from './support.ts';

function setup(opts: { issuer?: TestIssuer; pods?: Map<string, PodRef>; now?: () => number; lookup?: PodLookup; minRefetchIntervalMs?: number } = {}) {
  const issuer = opts.issuer ?? newIssuer();
  let fetches = 0;
  let doc: unknown = issuer.jwks;
  const keys = new JwksCache({
    fetch: async () => {
      fetches++;
      return doc;
    },
    ...(opts.now ? { now: opts.now } : {}),
    minRefetchIntervalMs: opts.minRefetchIntervalMs ?? 10_000,
  });
  const pods = opts.pods ?? new Map([['shop/web-1', { uid: 'uid-web-1', serviceAccount: 'web' }]]);
  const verifier = new TokenVerifier({
    keys,
    issuer: issuer.issuer,
    trustDomain: 'cluster.local',
    podLookup: opts.lookup ?? ((ns, name) => pods.get(`${ns}/${name}`)),
    ...(opts.now ? { now: opts.now } : {}),
  });
  return { issuer, keys, verifier, pods, fetches: () => fetches, setDoc: (d: unknown) => (doc = d) };
}

describe('TokenVerifier', () => {
  it.each(['ES256', 'RS256'] as const)('accepts a bound %s token and takes the identity from its claims', async (alg) => {
    const { issuer, verifier } = setup({ issuer: newIssuer({ alg }) });
    const r = await verifier.verify(issuer.token());
    expect(r).toMatchObject({
      ok: true,
      token: { identity: 'spiffe://cluster.local/ns/shop/sa/web', namespace: 'shop', serviceAccount: 'web', pod: { name: 'web-1', uid: 'uid-web-1' } },
    });
  });

  const now = Math.floor(Date.now() / 1000);
  it.each<[string, (i: TestIssuer) => string, string]>([
    ['garbage', () => 'not-a-jwt', 'malformed'],
    ['alg none', (i) => i.token({}, { alg: 'none' }), 'unsupported_alg'],
    [
      'HS256 (a symmetric alg with the public key as secret)',
      (i) => i.token({}, { alg: 'HS256', hmacSecret: i.publicKey.export({ format: 'pem', type: 'spki' }) }),
      'unsupported_alg',
    ],
    ['HS256 keyed with the public JWK', (i) => i.token({}, { alg: 'HS256', hmacSecret: JSON.stringify(i.jwks.keys[0]) }), 'unsupported_alg'],
    ['unknown kid', (i) => i.token({}, { kid: 'nope' }), 'unknown_key'],
    ['signed by another key', (i) => i.token({}, { key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }), 'bad_signature'],
    ['another issuer', (i) => i.token({ iss: 'https://evil.example' }), 'wrong_issuer'],
    ['audience other', (i) => i.token({ aud: ['other'] }), 'wrong_audience'],
    ['audience as a string, other', (i) => i.token({ aud: 'other' }), 'wrong_audience'],
    ['expired', (i) => i.token({ iat: now - 1200, nbf: now - 1200, exp: now - 600 }), 'expired'],
    ['not yet valid', (i) => i.token({ nbf: now + 600, iat: now + 600, exp: now + 1200 }), 'not_yet_valid'],
    ['not bound to a pod', (i) => i.token({ pod: null }), 'not_pod_bound'],
    ['subject mismatch', (i) => i.token({ sub: 'system:serviceaccount:shop:admin' }), 'bad_claims'],
    ['bound pod missing', (i) => i.token({ pod: { name: 'gone', uid: 'uid-gone' } }), 'pod_not_found'],
    ['bound pod recreated (other uid)', (i) => i.token({ pod: { name: 'web-1', uid: 'uid-old' } }), 'pod_uid_mismatch'],
    ['pod runs as another service account', (i) => i.token({ serviceAccount: 'admin' }), 'pod_service_account_mismatch'],
    ['invalid namespace name', (i) => i.token({ namespace: 'Shop' }), 'bad_claims'],
  ])('refuses %s', async (_name, make, code) => {
    const { issuer, verifier } = setup();
    const r = await verifier.verify(make(issuer));
    expect(r).toMatchObject({ ok: false, code });
    if (!r.ok) expect(r.reason.length).toBeGreaterThan(10);
  });

  it('tolerates 30 s of clock skew, not more', async () => {
    let clock = Date.now();
    const { issuer, verifier } = setup({ now: () => clock });
    const exp = Math.floor(clock / 1000) + 60;
    const token = issuer.token({ exp });
    clock = exp * 1000 + 29_000;
    expect((await verifier.verify(token)).ok).toBe(true);
    clock = exp * 1000 + 31_000;
    expect(await verifier.verify(token)).toMatchObject({ ok: false, code: 'expired' });
  });

  it('remembers verified tokens but re-checks the bound pod every time', async () => {
    let lookups = 0;
    const pods = new Map([['shop/web-1', { uid: 'uid-web-1' }]]);
    const { issuer, verifier, fetches } = setup({ lookup: (ns, n) => (lookups++, pods.get(`${ns}/${n}`)) });
    const token = issuer.token();
    for (let i = 0; i < 100; i++) expect((await verifier.verify(token)).ok).toBe(true);
    expect(verifier.cached).toBe(1);
    expect(fetches()).toBe(1);
    expect(lookups).toBe(100);
    pods.delete('shop/web-1');
    expect(await verifier.verify(token)).toMatchObject({ ok: false, code: 'pod_not_found' });
  });

  it('costs a hash and a pod lookup per cached verification (numbers for the record)', async () => {
    const { issuer, verifier } = setup();
    const fresh = Array.from({ length: 500 }, () => issuer.token());
    let t = performance.now();
    for (const tok of fresh) expect((await verifier.verify(tok)).ok).toBe(true);
    const fullMs = (performance.now() - t) / fresh.length;
    t = performance.now();
    for (let i = 0; i < 10_000; i++) await verifier.verify(fresh[i % fresh.length]!);
    const cachedMs = (performance.now() - t) / 10_000;
    console.info(`ES256 token verification: full ${(fullMs * 1000).toFixed(0)} µs, cached ${(cachedMs * 1000).toFixed(1)} µs`);
    expect(cachedMs).toBeLessThan(fullMs);
  });

  it('stops accepting a remembered token once its signing key is no longer published', async () => {
    let clock = Date.now();
    const issuer = newIssuer();
    let doc: unknown = issuer.jwks;
    const keys = new JwksCache({ fetch: async () => doc, now: () => clock, maxAgeMs: 60_000 });
    const verifier = new TokenVerifier({
      keys,
      issuer: issuer.issuer,
      trustDomain: 'cluster.local',
      podLookup: () => ({ uid: 'uid-web-1', serviceAccount: 'web' }),
      now: () => clock,
    });
    // A token with a far-away exp, as one forged with a since-compromised key could carry.
    const token = issuer.token({ exp: Math.floor(clock / 1000) + 365 * 24 * 3600 });
    expect(await verifier.verify(token)).toMatchObject({ ok: true });
    doc = { keys: [] }; // the API server retired the key
    clock += 61_000;
    expect(await verifier.verify(token)).toMatchObject({ ok: false, code: 'unknown_key' });
  });

  it('never caches a refused token, and a lookup failure is a reason, not a crash', async () => {
    const { issuer, verifier } = setup({ lookup: () => Promise.reject(new Error('informer exploded')) });
    expect(await verifier.verify(issuer.token({ aud: 'other' }))).toMatchObject({ ok: false, code: 'wrong_audience' });
    expect(verifier.cached).toBe(0);
    expect(await verifier.verify(issuer.token())).toMatchObject({ ok: false, code: 'pod_lookup_failed' });
  });
});

describe('JwksCache', () => {
  it('shares one fetch between concurrent verifications and refetches an unknown kid at most once per interval', async () => {
    let clock = Date.now();
    const rotated = newIssuer();
    const { issuer, verifier, fetches, setDoc } = setup({ now: () => clock });
    const results = await Promise.all(Array.from({ length: 50 }, () => verifier.verify(issuer.token())));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(fetches()).toBe(1);

    // A flood of tokens naming kids the server never published: one refetch per interval.
    const forged = await Promise.all(Array.from({ length: 50 }, (_, i) => verifier.verify(issuer.token({}, { kid: `forged-${i}` }))));
    expect(forged.every((r) => !r.ok && r.code === 'unknown_key')).toBe(true);
    expect(fetches()).toBe(1);
    clock += 10_000;
    await verifier.verify(issuer.token({}, { kid: 'forged-x' }));
    expect(fetches()).toBe(2);

    // The API server rotates its signing key: the new kid is fetched (once the interval passed).
    setDoc({ keys: [...issuer.jwks.keys, ...rotated.jwks.keys] });
    const newToken = rotated.token({}, {});
    expect(await verifier.verify(newToken)).toMatchObject({ ok: false, code: 'unknown_key' });
    clock += 10_000;
    expect((await verifier.verify(rotated.token())).ok).toBe(true);
    expect(fetches()).toBe(3);
  });

  it('refetches keys older than maxAgeMs, so an unpublished key stops verifying', async () => {
    let clock = Date.now();
    const issuer = newIssuer();
    let doc: unknown = issuer.jwks;
    const keys = new JwksCache({ fetch: async () => doc, now: () => clock, maxAgeMs: 60_000 });
    expect(await keys.lookup(issuer.kid)).toMatchObject({ ok: true });
    doc = { keys: [] }; // the API server retired the key
    clock += 30_000;
    expect(await keys.lookup(issuer.kid)).toMatchObject({ ok: true });
    clock += 31_000;
    expect(await keys.lookup(issuer.kid)).toEqual({ ok: false, reason: 'unknown_key' });
    expect(keys.fetches).toBe(2);
  });

  it('stops verifying with keys it cannot refresh after maxAgeMs + maxStaleMs, while the API server is unreachable (issue 13)', async () => {
    let clock = Date.now();
    let down = false;
    const issuer = newIssuer();
    const keys = new JwksCache({
      fetch: async () => (down ? Promise.reject(new Error('connect ECONNREFUSED')) : issuer.jwks),
      now: () => clock,
      maxAgeMs: 60_000,
      maxStaleMs: 120_000,
    });
    expect(await keys.lookup(issuer.kid)).toMatchObject({ ok: true });
    down = true; // the key may be retired meanwhile: nobody can tell
    clock += 61_000;
    expect(await keys.lookup(issuer.kid)).toMatchObject({ ok: true }); // stale, within the bound
    clock += 120_000;
    expect(await keys.lookup(issuer.kid)).toEqual({ ok: false, reason: 'keys_unavailable' }); // before: still ok, indefinitely
    down = false;
    clock += 10_000;
    expect(await keys.lookup(issuer.kid)).toMatchObject({ ok: true });
  });

  it('reports keys_unavailable when the fetch fails or returns junk, and recovers', async () => {
    let clock = 0;
    let fail = true;
    const issuer = newIssuer();
    const keys = new JwksCache({ fetch: async () => (fail ? Promise.reject(new Error('503')) : issuer.jwks), now: () => clock });
    expect(await keys.lookup(issuer.kid)).toEqual({ ok: false, reason: 'keys_unavailable' });
    expect(await keys.lookup(issuer.kid)).toEqual({ ok: false, reason: 'keys_unavailable' });
    expect(keys.fetches).toBe(1);
    fail = false;
    clock += 1_000;
    expect(await keys.lookup(issuer.kid)).toMatchObject({ ok: true });
    const junk = new JwksCache({ fetch: async () => ({ keys: 'no' }) });
    expect(await junk.lookup('x')).toEqual({ ok: false, reason: 'keys_unavailable' });
  });
});

describe('attacks on the JWS header', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const attackerJwk = { ...attacker.publicKey.export({ format: 'jwk' }), kid: 'attacker', alg: 'ES256', use: 'sig' };
  const rsaAttacker = generateKeyPairSync('rsa', { modulusLength: 2048 });

  it.each<[string, (i: TestIssuer) => string, string]>([
    ['an embedded jwk of the signing key, no kid', (i) => i.token({}, { kid: null, key: attacker.privateKey, header: { jwk: attackerJwk } }), 'bad_signature'],
    [
      'an embedded jwk naming the published kid',
      (i) => i.token({}, { key: attacker.privateKey, header: { jwk: { ...attackerJwk, kid: i.kid } } }),
      'bad_signature',
    ],
    ['an embedded jwk with its own kid', (i) => i.token({}, { kid: 'attacker', key: attacker.privateKey, header: { jwk: attackerJwk } }), 'unknown_key'],
    ['a jku pointing at the attacker', (i) => i.token({}, { key: attacker.privateKey, header: { jku: 'https://evil.example/jwks.json' } }), 'bad_signature'],
    [
      'an x5u pointing at the attacker',
      (i) => i.token({}, { kid: null, key: attacker.privateKey, header: { x5u: 'https://evil.example/cert.pem' } }),
      'bad_signature',
    ],
    // kid confusion: the published EC key's kid on a token signed with RSA (RS256).
    ["the EC key's kid with alg RS256", (i) => i.token({}, { alg: 'RS256', key: rsaAttacker.privateKey }), 'unknown_key'],
    ["the EC key's kid with alg ES384", (i) => i.token({}, { alg: 'ES384', key: attacker.privateKey }), 'unknown_key'],
    ['a crit header the verifier does not know', (i) => i.token({}, { header: { crit: ['weft'], weft: 1 } }), 'malformed'],
    ['an unencoded payload (b64: false)', (i) => i.token({}, { header: { crit: ['b64'], b64: false } }), 'malformed'],
  ])('refuses %s, and fetches nothing it names', async (_name, make, code) => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const { issuer, verifier, fetches } = setup();
    const r = await verifier.verify(make(issuer));
    expect(r).toMatchObject({ ok: false, code });
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(fetches()).toBeLessThanOrEqual(2); // the JWKS itself (and one refetch for an unknown kid), nothing else
  });

  it('picks the key by kid among several published keys of different types', async () => {
    const ec = newIssuer();
    const rsa = newIssuer({ alg: 'RS256', issuer: ec.issuer });
    const { verifier, setDoc } = setup({ issuer: ec });
    setDoc({ keys: [...ec.jwks.keys, ...rsa.jwks.keys] });
    expect((await verifier.verify(rsa.token())).ok).toBe(true);
    expect((await verifier.verify(ec.token())).ok).toBe(true);
    // Each kid on the other's algorithm: no published key fits.
    expect(await verifier.verify(rsa.token({}, { kid: ec.kid }))).toMatchObject({ ok: false, code: 'unknown_key' });
    expect(await verifier.verify(ec.token({}, { kid: rsa.kid }))).toMatchObject({ ok: false, code: 'unknown_key' });
    // No kid: every published key of the token's algorithm is tried.
    expect((await verifier.verify(ec.token({}, { kid: null }))).ok).toBe(true);
    expect((await verifier.verify(rsa.token({}, { kid: null }))).ok).toBe(true);
  });
});

describe('jwt', () => {
  const check = (issuer: TestIssuer): JwtCheck => ({ issuers: [issuer.issuer], audience: 'weft', skewMs: 30_000, now: Date.now });

  it('never accepts a private JWK, a mismatched curve, or a tampered payload', async () => {
    const issuer = newIssuer();
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(keyFromJwk(privateKey.export({ format: 'jwk' }) as Record<string, unknown>)).toBeUndefined();
    expect(keyFromJwk({ kty: 'oct', k: 'c2VjcmV0' })).toBeUndefined();
    const privateOnly = new JwksCache({ fetch: async () => ({ keys: [{ ...privateKey.export({ format: 'jwk' }), kid: issuer.kid }] }) });
    expect(await privateOnly.lookup(issuer.kid)).toEqual({ ok: false, reason: 'unknown_key' });
    const token = issuer.token();
    const keys = new JwksCache({ fetch: async () => issuer.jwks });
    expect(await verifyJwt(token, (h) => keys.resolve(h), check(issuer))).toMatchObject({ ok: true });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
    const p384Doc = { keys: [{ ...p384.export({ format: 'jwk' }), kid: issuer.kid, alg: 'ES256', use: 'sig' }] };
    const wrongCurve = new JwksCache({ fetch: async () => p384Doc });
    expect(await verifyJwt(token, (h) => wrongCurve.resolve(h), check(issuer))).toMatchObject({ ok: false });
    const [h, p, s] = token.split('.');
    const evil = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), 'kubernetes.io': { namespace: 'kube-system' } }),
    ).toString('base64url');
    expect(await verifyJwt(`${h}.${evil}.${s}`, (k) => keys.resolve(k), check(issuer))).toMatchObject({ ok: false, code: 'bad_signature' });
  });

  it.each(['', 'a.b', 'a.b.c.d', '!!.??.##', `${'a'.repeat(20_000)}.b.c`, 'e30.W10.'])('parses %j into a reason, never a throw', async (t) => {
    const issuer = newIssuer();
    const keys = new JwksCache({ fetch: async () => issuer.jwks });
    const r = await verifyJwt(t, (h) => keys.resolve(h), check(issuer));
    expect(r).toMatchObject({ ok: false, code: 'malformed' });
  });
});
