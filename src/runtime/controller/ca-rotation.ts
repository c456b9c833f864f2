// Root rotation for `weft controller`: the CA Secret is the store. The operator adds the next
// CA to it (`next.crt` = certificate then chain up to its root, `next.key`, optional
// `next-ca.crt` = roots when the chain does not end in a self-signed one); the leader records the
// phase in the annotation `weft.dev/ca-rotation`; every replica reports how many of ITS proxies
// ACKed the phase in `ca-rotation.weft.dev/<replica>` (each replica only sees its own streams);
// at `done` the next material moves into tls.crt/tls.key/ca.crt and the rest is removed.
// Every write is a read-modify-PUT carrying the resourceVersion read (the chart grants `update`
// on this Secret only, never `patch`), retried on 409 Conflict.
import { HttpMethod, type V1Secret } from '@kubernetes/client-node';
import { z } from 'zod';
import type { CaMaterial } from '../../ca/authority.ts';
import { ROTATION_PHASES, parseRotationState } from '../../ca/root-rotation.ts';
import { materialFrom, SecretKeys } from '../../ca/secret-store.ts';
import type { ReplicaReport, RotationStore } from '../../identity/ca-dir.ts';
import { KubeApiError, type KubeClient } from '../../k8s/client.ts';

export const NextSecretKeys = { cert: 'next.crt', key: 'next.key', bundle: 'next-ca.crt' } as const;
export const ROTATION_ANNOTATION = 'weft.dev/ca-rotation';
export const REPORT_ANNOTATION_PREFIX = 'ca-rotation.weft.dev/';

const ReportSchema = z.object({
  phase: z.enum(ROTATION_PHASES),
  next: z.string(),
  proxies: z.number().int().nonnegative(),
  acked: z.number().int().nonnegative(),
  at: z.number(),
});

/** A replica name as an annotation name: at most 63 characters of [A-Za-z0-9-_.], alphanumeric at both ends. */
export function reportKey(replica: string): string {
  const name = replica
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return `${REPORT_ANNOTATION_PREFIX}${name || 'replica'}`;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

export function secretRotationStore(client: KubeClient, where: { namespace: string; name: string }): RotationStore {
  const path = `/api/v1/namespaces/${encodeURIComponent(where.namespace)}/secrets/${encodeURIComponent(where.name)}`;
  const get = () => client.request<V1Secret>(HttpMethod.GET, path);
  /** GET, change, PUT with the resourceVersion read; a concurrent writer's 409 re-reads (3 tries). */
  const update = async (change: (s: V1Secret) => void): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const secret = await get();
      change(secret);
      try {
        await client.request(HttpMethod.PUT, path, { body: secret });
        return;
      } catch (err) {
        if (!(err instanceof KubeApiError && err.statusCode === 409) || attempt >= 3) throw err;
      }
    }
  };
  const annotations = (s: V1Secret): Record<string, string> => (s.metadata ??= {}).annotations ?? ((s.metadata.annotations = {}), s.metadata.annotations);

  return {
    async load() {
      const secret = await get();
      const data = secret.data ?? {};
      const notes = secret.metadata?.annotations ?? {};
      const nextCert = unb64(data[NextSecretKeys.cert]);
      const nextKey = unb64(data[NextSecretKeys.key]);
      const nextBundle = unb64(data[NextSecretKeys.bundle]);
      const next: CaMaterial | undefined =
        nextCert && nextKey ? { certPem: nextCert, keyPem: nextKey, ...(nextBundle ? { trustBundlePem: nextBundle } : {}) } : undefined;
      const state = notes[ROTATION_ANNOTATION] === undefined ? undefined : parseRotationState(notes[ROTATION_ANNOTATION]);
      const reports: ReplicaReport[] = [];
      for (const [k, v] of Object.entries(notes)) {
        if (!k.startsWith(REPORT_ANNOTATION_PREFIX)) continue;
        try {
          const r = ReportSchema.safeParse(JSON.parse(v));
          if (r.success) reports.push({ replica: k.slice(REPORT_ANNOTATION_PREFIX.length), ...r.data });
        } catch {
          // not JSON: ignored, like any annotation that is not a report
        }
      }
      return { current: materialFrom(secret), ...(next ? { next } : {}), ...(state ? { state } : {}), reports };
    },
    save: (state) => update((s) => void (annotations(s)[ROTATION_ANNOTATION] = JSON.stringify(state))),
    report: (r) =>
      update((s) => {
        const { replica, ...rest } = r;
        annotations(s)[reportKey(replica)] = JSON.stringify(rest);
      }),
    finish: (next) =>
      update((s) => {
        const data = (s.data ??= {});
        data[SecretKeys.cert] = b64(next.certPem);
        data[SecretKeys.key] = b64(next.keyPem);
        if (next.trustBundlePem) data[SecretKeys.bundle] = b64(next.trustBundlePem);
        else delete data[SecretKeys.bundle];
        for (const k of Object.values(NextSecretKeys)) delete data[k];
        const notes = annotations(s);
        for (const k of Object.keys(notes)) if (k === ROTATION_ANNOTATION || k.startsWith(REPORT_ANNOTATION_PREFIX)) delete notes[k];
      }),
  };
}
