// Scope from the credential (issue 13, finding 4): a proxy's node metadata says which
// namespace, Service and labels it claims; its credential says where it really runs. Identity
// shop/web once received payments/billing's inbound config and was listed as a payments proxy
// by claiming WEFT_NAMESPACE: payments. Held to the credential here, before the proxy is served:
//   - the namespace must be the credential's (token claims, or the client certificate's SPIFFE
//     id): another one is refused with PERMISSION_DENIED and the reason;
//   - with a token, the labels are the bound Pod's (pod informer), whatever the metadata says;
//   - with a token, a claimed Service that exists must select the Pod (its selector matches
//     the Pod's labels), else refused: inbound config is only for the Service's own Pods.
// A client certificate carries no labels, so a VM's Service claim is bounded by its namespace.
// The egress scope (src/api/egress.ts) is not a security boundary, but it comes from the same
// place as the labels: the bound Pod's (or its Namespace's) annotation replaces WEFT_EGRESS.
import type { ProxyScope } from '../../src/identity/auth-hook.ts';
import type { MeshModel } from '../../src/model/types.ts';
import type { ProxyInfo } from '../resources/proxy.ts';

export type Scoped = { ok: true; proxy: ProxyInfo } | { ok: false; claim: 'namespace' | 'service'; reason: string };

export function scopeProxy(proxy: ProxyInfo, scope: ProxyScope | undefined, model: MeshModel | undefined): Scoped {
  if (scope === undefined) return { ok: true, proxy };
  const who = `${proxy.identity ?? `${scope.namespace}/${scope.serviceAccount}`}`;
  if (proxy.namespace !== scope.namespace) {
    return {
      ok: false,
      claim: 'namespace',
      reason: `node.metadata.WEFT_NAMESPACE "${proxy.namespace}" is not the namespace of this proxy's credential (${who} runs in "${scope.namespace}"); a proxy may only claim its own namespace`,
    };
  }
  if (scope.egress !== undefined) proxy = withEgress(proxy, scope.egress.hosts);
  if (scope.labels === undefined) return { ok: true, proxy };
  const scoped: ProxyInfo = { ...proxy, labels: scope.labels };
  if (proxy.service !== undefined) {
    const svc = model?.services.get(`${proxy.namespace}/${proxy.service}`);
    const selector = svc?.selector;
    if (selector !== undefined && !Object.entries(selector).every(([k, v]) => scope.labels?.[k] === v)) {
      return {
        ok: false,
        claim: 'service',
        reason: `node.metadata.WEFT_SERVICE "${proxy.service}": Service ${proxy.namespace}/${proxy.service} does not select this proxy's Pod (${who}; selector ${JSON.stringify(selector)}); a proxy may only front a Service that selects it`,
      };
    }
  }
  return { ok: true, proxy: scoped };
}

/** `proxy` with the scope `hosts` (undefined: unscoped), whatever its node metadata said. */
function withEgress(proxy: ProxyInfo, hosts: readonly string[] | undefined): ProxyInfo {
  const { egress: _claimed, ...rest } = proxy;
  return hosts === undefined ? rest : { ...rest, egress: hosts };
}
