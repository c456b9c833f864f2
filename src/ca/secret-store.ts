// The root in a Kubernetes Secret (default weft-system/weft-root-ca). Creation is a plain POST:
// the API server admits exactly one create per name, so two replicas starting together agree on
// one root — the loser gets 409 AlreadyExists and reads the winner's Secret.
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import { log } from '../base/log.ts';
import type { RootMaterial, RootStore } from './store.ts';

export const ROOT_SECRET_NAME = 'weft-root-ca';

/** Secret keys: kubernetes.io/tls convention plus ca.crt for the trust bundle. */
export const SecretKeys = { cert: 'tls.crt', key: 'tls.key', bundle: 'ca.crt' } as const;

type SecretApi = Pick<CoreV1Api, 'readNamespacedSecret' | 'createNamespacedSecret'>;

const clog = log.child({ component: 'ca-secret-store' });

export function secretRootStore(api: SecretApi, where: { namespace: string; name?: string }): RootStore {
  const name = where.name ?? ROOT_SECRET_NAME;
  const namespace = where.namespace;
  return {
    async load() {
      let secret: V1Secret;
      try {
        secret = await api.readNamespacedSecret({ name, namespace });
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
      return materialFrom(secret);
    },
    async createIfAbsent(material) {
      const data: Record<string, string> = {
        [SecretKeys.cert]: b64(material.certPem),
        [SecretKeys.key]: b64(material.keyPem),
      };
      if (material.trustBundlePem) data[SecretKeys.bundle] = b64(material.trustBundlePem);
      try {
        await api.createNamespacedSecret({
          namespace,
          body: {
            apiVersion: 'v1',
            kind: 'Secret',
            type: 'kubernetes.io/tls',
            metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'weft', 'app.kubernetes.io/component': 'ca' } },
            data,
          },
        });
        clog.info({ namespace, name }, 'root CA secret created');
        return 'created';
      } catch (err) {
        if (statusOf(err) === 409) {
          clog.info({ namespace, name }, 'root CA secret already exists; using it');
          return 'exists';
        }
        throw err;
      }
    },
  };
}

/** Material from a Secret; missing keys become empty strings so loadCa reports them by field. */
export function materialFrom(secret: V1Secret): RootMaterial {
  const data = secret.data ?? {};
  const bundle = data[SecretKeys.bundle];
  return {
    certPem: unb64(data[SecretKeys.cert]),
    keyPem: unb64(data[SecretKeys.key]),
    ...(bundle ? { trustBundlePem: unb64(bundle) } : {}),
  };
}

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

function unb64(s: string | undefined): string {
  return s ? Buffer.from(s, 'base64').toString('utf8') : '';
}

// client-node 2.x throws ApiException { code }; tolerate other shapes (statusCode) defensively.
function statusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; statusCode?: unknown };
    if (typeof e.code === 'number') return e.code;
    if (typeof e.statusCode === 'number') return e.statusCode;
  }
  return undefined;
}
