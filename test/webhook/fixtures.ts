// Shared inputs for injection tests: fixed values (a checked-in trust bundle so golden files
// are stable) and a namespace cache where `shop` and `web` are enabled.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AdmissionRequest } from '../../webhook/admission.ts';
import type { InjectContext } from '../../webhook/inject.ts';
import { parseInjectValues, type InjectValuesInput } from '../../webhook/values.ts';

export const goldenDir = fileURLToPath(new URL('./golden', import.meta.url));
export const trustBundlePem = readFileSync(`${goldenDir}/trust-bundle.pem`, 'utf8');

export const namespaces: Record<string, Record<string, string>> = {
  shop: { 'weft.dev/inject': 'enabled', 'kubernetes.io/metadata.name': 'shop' },
  web: { 'weft.dev/inject': 'enabled' },
  plain: { 'kubernetes.io/metadata.name': 'plain' },
  'kube-system': { 'weft.dev/inject': 'enabled' },
  'weft-system': { 'weft.dev/inject': 'enabled' },
};

export function testContext(overrides: Partial<InjectValuesInput> = {}): InjectContext {
  const r = parseInjectValues({ trustBundlePem, excludeOutboundCidrs: ['169.254.169.254/32'], ...overrides });
  if (!r.ok) throw new Error(r.errors.join('; '));
  return { values: r.values, namespaceLabels: (ns) => namespaces[ns] };
}

/** A Pod CREATE admission request for `pod`, in its metadata.namespace (default shop). */
export function podRequest(pod: Record<string, unknown>, namespace?: string, uid = 'golden'): AdmissionRequest {
  const ns = namespace ?? (pod.metadata as { namespace?: string } | undefined)?.namespace ?? 'shop';
  return { uid, kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: ns, object: pod };
}
