// Standalone mode's CA directory (`weft serve --ca-dir DIR`, `weft bootstrap --ca-dir DIR`):
// one PEM file with the root certificate and key (src/ca/store.ts fileRootStore), created by
// the first `weft serve`, read by `weft bootstrap` to issue a proxy's client certificate.
// Root rotation (src/ca/root-rotation.ts): the operator drops the next CA (chain then key) in
// NEXT_CA_FILE; `weft serve` records the phase in ROTATION_FILE and, when done, moves the next
// material over CA_FILE. During a rotation caFromDir answers the new key with old + new roots
// trusted, so `weft bootstrap` issues from the new key and inlines both roots.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { loadCa, type CaMaterial, type CertificateAuthority } from '../ca/authority.ts';
import { bootstrapCa } from '../ca/bootstrap.ts';
import { parseRotationState, workloadMaterial, type RotationState } from '../ca/root-rotation.ts';
import { spiffeId } from '../ca/spiffe.ts';
import { fileRootStore } from '../ca/store.ts';
import { errorMessage } from '../base/errors.ts';

export const CA_FILE = 'weft-root-ca.pem';
export const NEXT_CA_FILE = 'weft-root-ca.next.pem';
export const ROTATION_FILE = 'weft-root-ca.rotation.json';

/** A rotation's material and recorded phase in a CA directory; `current` undefined before the first serve. */
export interface CaDirRotation {
  readonly current?: CaMaterial;
  readonly next?: CaMaterial;
  readonly state?: RotationState;
  /** What each replica reported (stores shared by several replicas). */
  readonly reports?: readonly ReplicaReport[];
}

/** One replica's view of a rotation phase: how many of its proxies ACKed it, and when. */
export interface ReplicaReport {
  readonly replica: string;
  readonly phase: RotationState['phase'];
  readonly next: string;
  readonly proxies: number;
  readonly acked: number;
  /** Epoch ms. */
  readonly at: number;
}

/** Where a rotation's material and phase live (a CA directory, or the CA Secret). */
export interface RotationStore {
  load(): Promise<CaDirRotation>;
  save(state: RotationState): Promise<void>;
  /** `next` becomes the current material; the next material, the recorded state and the reports go. */
  finish(next: CaMaterial): Promise<void>;
  /** Records this replica's ACK count (stores shared by several replicas). */
  report?(r: ReplicaReport): Promise<void>;
}

/** The rotation files of `dir` (written atomically: temp file, then rename). */
export function caDirRotationStore(dir: string): RotationStore {
  const read = async (name: string): Promise<string | undefined> => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };
  const replace = async (name: string, text: string): Promise<void> => {
    const tmp = join(dir, `${name}.${randomBytes(6).toString('hex')}.tmp`);
    await writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
    await rename(tmp, join(dir, name));
  };
  return {
    async load() {
      const [current, next, state] = await Promise.all([
        fileRootStore(join(dir, CA_FILE)).load(),
        fileRootStore(join(dir, NEXT_CA_FILE)).load(),
        read(ROTATION_FILE),
      ]);
      const parsed = state === undefined ? undefined : parseRotationState(state);
      return { ...(current ? { current } : {}), ...(next ? { next } : {}), ...(parsed ? { state: parsed } : {}) };
    },
    save: (state) => replace(ROTATION_FILE, `${JSON.stringify(state)}\n`),
    async finish(next) {
      await replace(CA_FILE, next.certPem + next.keyPem);
      await rm(join(dir, NEXT_CA_FILE), { force: true });
      await rm(join(dir, ROTATION_FILE), { force: true });
    },
  };
}

export type CaDirResult = { ok: true; ca: CertificateAuthority; created: boolean } | { ok: false; error: string };

/**
 * Loads the CA in `dir`, creating it when `create` (serve) and absent; every problem becomes a
 * message. Mid-rotation (unless `rotation: false`, for serve, whose driver applies the phase),
 * the new key with both roots.
 */
export async function caFromDir(dir: string, opts: { trustDomain: string; create: boolean; rotation?: boolean }): Promise<CaDirResult> {
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
  if (opts.rotation === false) return { ok: true, ca: r.ca, created: r.source === 'created' };
  const rotating = await caDirRotationStore(dir)
    .load()
    .catch(() => undefined);
  if (rotating?.current && rotating.next && rotating.state && rotating.state.phase !== 'done') {
    // Mid-rotation: the xDS server trusts both roots, so a proxy bootstrapped now gets a client
    // certificate from the NEW key (it keeps working after `retire`) and both roots (the server
    // keeps its old chain until `retire`).
    const during = loadCa(workloadMaterial('sign', rotating.current, rotating.next), { trustDomain: opts.trustDomain });
    if (during.ok) return { ok: true, ca: during.ca, created: false };
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
