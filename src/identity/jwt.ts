// Compact JWS (RFC 7515) parsing and signature verification with node:crypto, for the
// algorithms Kubernetes signs ServiceAccount tokens with (RS256/384/512, ES256/384/512,
// PS256/384/512). Nothing here trusts the token: parse returns data or a reason, verify
// is a yes/no against a key the caller chose by `kid`.
import { constants, createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';

export interface ParsedJwt {
  readonly header: { readonly alg: string; readonly kid?: string; readonly typ?: string };
  /** The decoded payload object (unvalidated: claims are checked by the caller's schema). */
  readonly payload: Readonly<Record<string, unknown>>;
  /** `base64url(header).base64url(payload)`: what the signature covers. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

export type JwtParse = { ok: true; jwt: ParsedJwt } | { ok: false; reason: string };

const HeaderSchema = z.object({ alg: z.string(), kid: z.string().optional(), typ: z.string().optional() });
const B64URL = /^[A-Za-z0-9_-]*$/;
/** Kubernetes tokens are ~1 KiB; anything this large is not one. */
export const MAX_TOKEN_BYTES = 16 * 1024;

function decodeJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

export function parseJwt(token: string): JwtParse {
  if (token.length > MAX_TOKEN_BYTES) return { ok: false, reason: 'token too large' };
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) return { ok: false, reason: 'not a compact JWS (three base64url parts)' };
  const [h = '', p = '', s = ''] = parts;
  const header = HeaderSchema.safeParse(decodeJson(h));
  if (!header.success) return { ok: false, reason: 'malformed JWS header' };
  const payload = decodeJson(p);
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return { ok: false, reason: 'payload is not a JSON object' };
  return {
    ok: true,
    jwt: { header: header.data, payload: payload as Record<string, unknown>, signingInput: `${h}.${p}`, signature: Buffer.from(s, 'base64url') },
  };
}

interface AlgSpec {
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  readonly kty: 'RSA' | 'EC';
  readonly pss?: boolean;
  /** ECDSA curve the key must be on (RFC 7518 §3.4 binds each ES alg to one curve). */
  readonly curve?: string;
}

const ALGS: Readonly<Record<string, AlgSpec>> = {
  RS256: { hash: 'sha256', kty: 'RSA' },
  RS384: { hash: 'sha384', kty: 'RSA' },
  RS512: { hash: 'sha512', kty: 'RSA' },
  PS256: { hash: 'sha256', kty: 'RSA', pss: true },
  PS384: { hash: 'sha384', kty: 'RSA', pss: true },
  PS512: { hash: 'sha512', kty: 'RSA', pss: true },
  ES256: { hash: 'sha256', kty: 'EC', curve: 'prime256v1' },
  ES384: { hash: 'sha384', kty: 'EC', curve: 'secp384r1' },
  ES512: { hash: 'sha512', kty: 'EC', curve: 'secp521r1' },
};

export function isSupportedAlg(alg: string): boolean {
  return Object.hasOwn(ALGS, alg);
}

/** A verification key from a JWK (public RSA or EC only), or undefined when unusable. */
export function keyFromJwk(jwk: Readonly<Record<string, unknown>>): KeyObject | undefined {
  if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') return undefined;
  if ('d' in jwk) return undefined; // a private key has no business in a JWKS
  try {
    return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/** Whether `jwt`'s signature verifies with `key` under its header's algorithm (never `none`). */
export function verifySignature(jwt: ParsedJwt, key: KeyObject): boolean {
  const spec = ALGS[jwt.header.alg];
  if (spec === undefined) return false;
  const type = key.asymmetricKeyType;
  if (spec.kty === 'RSA' && type !== 'rsa') return false;
  if (spec.kty === 'EC' && (type !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== spec.curve)) return false;
  try {
    const data = Buffer.from(jwt.signingInput, 'ascii');
    if (spec.kty === 'EC') return verify(spec.hash, data, { key, dsaEncoding: 'ieee-p1363' }, jwt.signature);
    if (spec.pss)
      return verify(spec.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, jwt.signature);
    return verify(spec.hash, data, key, jwt.signature);
  } catch {
    return false;
  }
}
