// Weft as deployed, for the peer bench (--deployed): TLS with a serving certificate from a
// fresh mesh CA, and every simulated sidecar authenticated by a projected ServiceAccount
// token (ES256, audience `weft`, bound to a Pod the pod lookup knows), so connects and the
// reconnect storm include TLS handshakes and token verification — and each identity's SDS
// certificate. Proxy i is Pod `sidecar-i` (uid `uid-i`) in namespace i mod N, running as the
// ServiceAccount of the Service it fronts and carrying that Service's selector labels, as the
// load generator's node metadata claims (bench/peer/load.go).
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PodRef } from '../../src/identity/token.ts';
import { namespaceName, serviceName, type MeshShape } from './mesh.ts';

export interface DeployedIdentity {
  readonly issuer: string;
  readonly jwks: { readonly keys: readonly object[] };
  /** Where the server writes its trust bundle (ca.pem) and the tokens are (tokens, one per line). */
  readonly dir: string;
}

const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');

function token(key: KeyObject, kid: string, issuer: string, i: number, shape: MeshShape): string {
  const now = Math.floor(Date.now() / 1000);
  const ns = namespaceName(i % shape.namespaces);
  const sa = serviceName(Math.floor(i / shape.namespaces) % shape.servicesPerNamespace);
  const payload = {
    aud: ['weft'],
    exp: now + 3600,
    iat: now,
    nbf: now,
    iss: issuer,
    jti: randomUUID(),
    'kubernetes.io': { namespace: ns, serviceaccount: { name: sa, uid: `uid-sa-${sa}` }, pod: { name: `sidecar-${i}`, uid: `uid-${i}` } },
    sub: `system:serviceaccount:${ns}:${sa}`,
  };
  const input = `${b64({ alg: 'ES256', kid })}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/** A token issuer, and a token for each of `n` proxies written to dir/tokens. */
export function mintTokens(n: number, shape: MeshShape, dir: string): DeployedIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomUUID();
  const issuer = 'https://kubernetes.default.svc.cluster.local';
  const lines = Array.from({ length: n }, (_, i) => token(privateKey, kid, issuer, i, shape));
  writeFileSync(join(dir, 'tokens'), `${lines.join('\n')}\n`);
  return { issuer, jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'ES256' }] }, dir };
}

/** The pod lookup of the bench's cluster: `sidecar-i` exists in its namespace. */
export function benchPod(shape: MeshShape, namespace: string, name: string): PodRef | undefined {
  const m = /^sidecar-(\d+)$/.exec(name);
  if (!m) return undefined;
  const i = Number(m[1]);
  if (namespaceName(i % shape.namespaces) !== namespace) return undefined;
  const svc = serviceName(Math.floor(i / shape.namespaces) % shape.servicesPerNamespace);
  return { uid: `uid-${i}`, serviceAccount: svc, labels: { app: svc } };
}
