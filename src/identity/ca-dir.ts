// Standalone mode's CA directory (`weft serve --ca-dir DIR`, `weft bootstrap --ca-dir DIR`):
// one PEM file with the root certificate and key (src/ca/store.ts fileRootStore), created by
// the first `weft serve`, read by `weft bootstrap` to issue a proxy's client certificate.
import { join } from 'node:path';
import type { CertificateAuthority } from '../ca/authority.ts';
import { bootstrapCa } from '../ca/bootstrap.ts';
import { spiffeId } from '../ca/spiffe.ts';
import { fileRootStore } from '../ca/store.ts';
import { errorMessage } from '../base/errors.ts';

export const CA_FILE = 'weft-root-ca.pem';

export type CaDirResult = { ok: true; ca: CertificateAuthority; created: boolean } | { ok: false; error: string };

/** Loads the CA in `dir`, creating it when `create` (serve) and absent; every problem becomes a message. */
export async function caFromDir(dir: string, opts: { trustDomain: string; create: boolean }): Promise<CaDirResult> {
  const path = join(dir, CA_FILE);
  let r;
  try {
    r = await bootstrapCa(fileRootStore(path), { trustDomain: opts.trustDomain, createIfMissing: opts.create });
  } catch (err) {
    return { ok: false, error: `${path}: ${errorMessage(err)}` };
  }
  if (!r.ok) {
    const missing = r.errors.some((e) => e.field === 'store');
    return {
      ok: false,
      error: missing
        ? `no CA in ${dir} (${CA_FILE}); start \`weft serve --ca-dir ${dir}\` once to create it`
        : `${path}: ${r.errors.map((e) => `${e.field}: ${e.reason}`).join('; ')}`,
    };
  }
  return { ok: true, ca: r.ca, created: r.source === 'created' };
}

export interface ClientCertificate {
  readonly identity: string;
  readonly chainPem: string;
  readonly keyPem: string;
  readonly trustBundlePem: string;
  readonly notAfter: Date;
}

/** An X.509-SVID a proxy outside Kubernetes presents to the xDS server. */
export async function issueClientCertificate(
  ca: CertificateAuthority,
  req: { namespace: string; serviceAccount: string; ttlMs: number },
): Promise<{ ok: true; cert: ClientCertificate } | { ok: false; error: string }> {
  const r = await ca.issueSvid({ namespace: req.namespace, serviceAccount: req.serviceAccount, ttlMs: req.ttlMs });
  if (!r.ok) return { ok: false, error: r.reason };
  if (r.cert.keyPem === undefined) return { ok: false, error: 'no key was generated' };
  return {
    ok: true,
    cert: {
      identity: spiffeId(ca.trustDomain, req.namespace, req.serviceAccount),
      chainPem: r.cert.chainPem,
      keyPem: r.cert.keyPem,
      trustBundlePem: ca.trustBundlePem,
      notAfter: r.cert.notAfter,
    },
  };
}
