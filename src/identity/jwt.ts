// Compact JWS (RFC 7515) verification of Kubernetes ServiceAccount tokens with `jose`: it
// parses the token, refuses any algorithm outside the asymmetric ones the API server signs
// with (so `none`, and HS256 keyed with a public key, never get near a key), picks the key
// by kid, alg, kty and curve from the JWKS (never from the token's own `jwk`/`jku`/`x5u`
// headers), verifies the signature and checks iss, aud, exp and nbf. What stays here is the
// mapping of jose's errors to Weft's rejection codes, and trying every key when a token
// names no kid. Nothing here trusts the token: the result is the payload or a reason.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import * as jose from 'jose';
import { errorMessage } from '../base/errors.ts';

/** The algorithms Kubernetes signs ServiceAccount tokens with (RSA, RSA-PSS, ECDSA). */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;

/** Kubernetes tokens are ~1 KiB; anything this large is not one (refused before parsing). */
export const MAX_TOKEN_BYTES = 16 * 1024;

export type JwtRejection =
  | 'malformed'
  | 'unsupported_alg'
  | 'unknown_key'
  | 'keys_unavailable'
  | 'bad_signature'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_claims';

/** Thrown by a key resolver when the signing keys cannot be fetched (a retryable condition, not a bad token). */
export class KeysUnavailableError extends Error {
  constructor() {
    super("the API server's signing keys are unavailable");
    this.name = 'KeysUnavailableError';
  }
}

/** Resolves the verification key for a token's protected header (jose's JWTVerifyGetKey shape). */
export type KeyResolver = (header: jose.JWSHeaderParameters) => Promise<jose.CryptoKey>;

export interface JwtCheck {
  readonly issuers: readonly string[];
  readonly audience: string;
  /** Clock skew allowed on exp and nbf. */
  readonly skewMs: number;
  readonly now: () => number;
}

export type JwtResult =
  { ok: true; payload: jose.JWTPayload; header: jose.JWTHeaderParameters; key: jose.CryptoKey } | { ok: false; code: JwtRejection; reason: string };

type Rejected = Extract<JwtResult, { ok: false }>;
const reject = (code: JwtRejection, reason: string): Rejected => ({ ok: false, code, reason });

/** Verifies `token`'s signature with the key `resolve` picks, and its iss, aud, exp and nbf. */
export async function verifyJwt(token: string, resolve: KeyResolver, check: JwtCheck): Promise<JwtResult> {
  if (token.length > MAX_TOKEN_BYTES) return reject('malformed', 'token too large');
  const options: jose.JWTVerifyOptions = {
    algorithms: [...JWT_ALGORITHMS],
    issuer: [...check.issuers],
    audience: check.audience,
    clockTolerance: check.skewMs / 1000,
    currentDate: new Date(check.now()),
  };
  try {
    const r = await jose.jwtVerify(token, resolve, options);
    return { ok: true, payload: r.payload, header: r.protectedHeader, key: r.key as jose.CryptoKey };
  } catch (err) {
    if (!(err instanceof jose.errors.JWKSMultipleMatchingKeys)) return rejection(err, check);
    // A token without a kid: every published key of its algorithm is a candidate.
    let last: unknown = new jose.errors.JWSSignatureVerificationFailed();
    for await (const key of err as jose.errors.JWKSMultipleMatchingKeys & AsyncIterable<jose.CryptoKey>) {
      try {
        const r = await jose.jwtVerify(token, key, options);
        return { ok: true, payload: r.payload, header: r.protectedHeader, key };
      } catch (e) {
        last = e;
        if (!(e instanceof jose.errors.JWSSignatureVerificationFailed)) break; // signed by this key, but its claims are wrong
      }
    }
    return rejection(last, check);
  }
}

function rejection(err: unknown, check: JwtCheck): Rejected {
  const e = jose.errors;
  if (err instanceof KeysUnavailableError) return reject('keys_unavailable', "the API server's signing keys are unavailable; try again");
  if (err instanceof e.JOSEAlgNotAllowed) return reject('unsupported_alg', 'signature algorithm is not accepted');
  if (err instanceof e.JWKSNoMatchingKey) return reject('unknown_key', 'token signed by a key the API server does not publish');
  if (err instanceof e.JWSSignatureVerificationFailed) return reject('bad_signature', 'token signature does not verify');
  if (err instanceof e.JWTExpired) return reject('expired', `token expired at ${claimDate(err.payload.exp)}`);
  if (err instanceof e.JWTClaimValidationFailed) {
    if (err.claim === 'iss' && err.reason === 'check_failed') return reject('wrong_issuer', `issuer "${String(err.payload.iss)}" is not this cluster's`);
    if (err.claim === 'aud' && err.reason === 'check_failed') return reject('wrong_audience', `token audience does not include "${check.audience}"`);
    if (err.claim === 'nbf' && err.reason === 'check_failed') return reject('not_yet_valid', `token not valid before ${claimDate(err.payload.nbf)}`);
    return reject('bad_claims', `not a Kubernetes ServiceAccount token (${err.message})`);
  }
  // JOSENotSupported: a `crit` header parameter jose does not implement.
  if (err instanceof e.JWSInvalid || err instanceof e.JWTInvalid || err instanceof e.JOSENotSupported)
    return reject('malformed', `not a compact JWS token (${err.message})`);
  // jose checks inputs with TypeErrors too (e.g. an RSA key under 2048 bits): never a pass.
  return reject('malformed', `token refused: ${errorMessage(err)}`);
}

const claimDate = (seconds: unknown): string => (typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : 'an invalid time');

/**
 * A public RSA or EC key from a JWKS member, or undefined when unusable (a private key, a
 * symmetric one, or one node:crypto cannot read). The JWKS cache keeps only usable members,
 * and compares a remembered token's key with these to see whether it is still published.
 */
export function keyFromJwk(jwk: Readonly<Record<string, unknown>>): KeyObject | undefined {
  if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') return undefined;
  if ('d' in jwk) return undefined; // a private key has no business in a JWKS
  try {
    return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
}
