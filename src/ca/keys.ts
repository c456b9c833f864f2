// Key pairs live as node:crypto KeyObjects: generation runs on libuv's thread pool (RSA
// keygen takes ~50 ms and must not block the event loop) and signing is native.
import { generateKeyPair as genKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

export type KeyAlgorithm = 'ecdsa-p256' | 'rsa-2048';

export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = 'ecdsa-p256';

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const generate = promisify(genKeyPair);

export async function generateKeyPair(alg: KeyAlgorithm): Promise<KeyPair> {
  return alg === 'rsa-2048' ? generate('rsa', { modulusLength: 2048, publicExponent: 0x10001 }) : generate('ec', { namedCurve: 'P-256' });
}

/** How a key signs certificates: the X.509 signature algorithm OID and the digest. */
export interface SignatureScheme {
  readonly oid: string;
  readonly hash: 'sha256' | 'sha384';
  /** RSA's AlgorithmIdentifier carries an explicit NULL parameter; ECDSA's carries none. */
  readonly nullParams: boolean;
}

/** The scheme for a CA key, or a reason it can't sign (user-supplied keys may be anything). */
export function signatureSchemeFor(key: KeyObject): SignatureScheme | { error: string } {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return { oid: '1.2.840.10045.4.3.2', hash: 'sha256', nullParams: false };
    if (details.namedCurve === 'secp384r1') return { oid: '1.2.840.10045.4.3.3', hash: 'sha384', nullParams: false };
    return { error: `EC curve ${details.namedCurve ?? 'unknown'} is not supported (use P-256 or P-384)` };
  }
  if (key.asymmetricKeyType === 'rsa') {
    if ((details.modulusLength ?? 0) < 2048) return { error: 'RSA keys shorter than 2048 bits are not accepted' };
    return { oid: '1.2.840.113549.1.1.11', hash: 'sha256', nullParams: true };
  }
  return { error: `key type ${key.asymmetricKeyType ?? 'unknown'} is not supported (use ECDSA or RSA)` };
}

export function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}
