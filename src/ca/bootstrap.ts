// First start: use the stored root, or generate one and race to store it. Whoever loses the
// race adopts the winner's, so every replica ends up signing with the same root.
import { log } from '../base/log.ts';
import { createRootCa, loadCa, type FieldError, type CertificateAuthority } from './authority.ts';
import type { KeyAlgorithm } from './keys.ts';
import type { RootStore } from './store.ts';

const clog = log.child({ component: 'ca' });

export type BootstrapResult = { ok: true; ca: CertificateAuthority; source: 'loaded' | 'created' | 'adopted' } | { ok: false; errors: FieldError[] };

export async function bootstrapCa(
  store: RootStore,
  opts: { trustDomain: string; keyAlgorithm?: KeyAlgorithm; now?: Date; createIfMissing?: boolean },
): Promise<BootstrapResult> {
  const existing = await store.load();
  if (existing) return finish(loadCa(existing, opts), 'loaded');
  if (opts.createIfMissing === false) return { ok: false, errors: [{ field: 'store', reason: 'no CA material found and creation is disabled' }] };
  const fresh = await createRootCa({ ...(opts.keyAlgorithm ? { keyAlgorithm: opts.keyAlgorithm } : {}), ...(opts.now ? { now: opts.now } : {}) });
  const outcome = await store.createIfAbsent(fresh);
  if (outcome === 'created') return finish(loadCa(fresh, opts), 'created');
  const winner = await store.load();
  if (!winner) return { ok: false, errors: [{ field: 'store', reason: 'CA material reported as existing but could not be read' }] };
  return finish(loadCa(winner, opts), 'adopted');
}

function finish(r: ReturnType<typeof loadCa>, source: 'loaded' | 'created' | 'adopted'): BootstrapResult {
  if (!r.ok) {
    clog.error({ errors: r.errors }, 'CA material invalid');
    return r;
  }
  clog.info({ source, notAfter: r.ca.notAfter.toISOString() }, 'CA ready');
  return { ok: true, ca: r.ca, source };
}
