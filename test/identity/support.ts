// A stand-in token issuer for unit tests: a real key pair, tokens shaped exactly like the
// API server's bound ServiceAccount tokens, and its JWKS document. The real API server's
// tokens are exercised in e2e/identity/kube-token.test.ts.
import { createHmac, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';

export interface TestIssuer {
  readonly issuer: string;
  readonly kid: string;
  readonly publicKey: KeyObject;
  readonly jwks: { keys: Record<string, unknown>[] };
  token(claims?: TokenClaims, opts?: TokenOptions): string;
}

export interface TokenOptions {
  alg?: string;
  kid?: string | null;
  /** Signs with this key instead of the issuer's. */
  key?: KeyObject;
  /** Extra protected-header members (jwk, jku, crit, ...): what an attacker controls. */
  header?: Record<string, unknown>;
  /** For HS*: the HMAC secret (the attack uses the issuer's public key as one). */
  hmacSecret?: string | Buffer;
}

export interface TokenClaims {
  namespace?: string;
  serviceAccount?: string;
  pod?: { name: string; uid: string } | null;
  aud?: string | string[];
  iss?: string;
  /** Seconds since the epoch. */
  iat?: number;
  exp?: number;
  nbf?: number;
  sub?: string;
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

export function newIssuer(opts: { alg?: 'ES256' | 'RS256'; issuer?: string } = {}): TestIssuer {
  const alg = opts.alg ?? 'ES256';
  const { privateKey, publicKey } = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const issuer = opts.issuer ?? 'https://kubernetes.default.svc.cluster.local';
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg };
  return {
    issuer,
    kid,
    publicKey,
    jwks: { keys: [jwk] },
    token(c = {}, o = {}) {
      const now = Math.floor(Date.now() / 1000);
      const ns = c.namespace ?? 'shop';
      const sa = c.serviceAccount ?? 'web';
      const pod = c.pod === undefined ? { name: 'web-1', uid: 'uid-web-1' } : c.pod;
      const payload = {
        aud: c.aud ?? ['weft'],
        exp: c.exp ?? now + 600,
        iat: c.iat ?? now,
        nbf: c.nbf ?? now,
        iss: c.iss ?? issuer,
        jti: randomUUID(),
        'kubernetes.io': { namespace: ns, serviceaccount: { name: sa, uid: `uid-sa-${sa}` }, ...(pod ? { pod } : {}) },
        sub: c.sub ?? `system:serviceaccount:${ns}:${sa}`,
      };
      const useAlg = o.alg ?? alg;
      const header = { alg: useAlg, ...(o.kid === null ? {} : { kid: o.kid ?? kid }), ...o.header };
      const input = `${b64(header)}.${b64(payload)}`;
      const key = o.key ?? privateKey;
      const sig =
        useAlg === 'none'
          ? Buffer.alloc(0)
          : useAlg.startsWith('HS')
            ? createHmac('sha256', o.hmacSecret ?? 'secret')
                .update(input)
                .digest()
            : useAlg.startsWith('ES')
              ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
              : sign('sha256', Buffer.from(input), key);
      return `${input}.${sig.toString('base64url')}`;
    },
  };
}
