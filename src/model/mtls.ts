// The mTLS mode in force for one workload (and optionally one of its ports). Most
// specific wins: port-level > workload selector > namespace-wide > mesh-wide >
// PERMISSIVE. UNSET at any level defers to the next.
import type { MeshModel, MtlsMode, PeerAuthPolicy } from './types.ts';

export const DEFAULT_MTLS_MODE: MtlsMode = 'PERMISSIVE';

function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function effectiveMtls(
  model: Pick<MeshModel, 'peerAuths'>,
  workload: { namespace: string; labels: Readonly<Record<string, string>> },
  port?: number,
): MtlsMode {
  let selected: PeerAuthPolicy | undefined;
  let namespaceWide: PeerAuthPolicy | undefined;
  let meshWide: PeerAuthPolicy | undefined;
  // peerAuths are in precedence order: the first match at each level wins.
  for (const p of model.peerAuths) {
    if (p.meshWide) meshWide ??= p;
    if (p.namespace !== workload.namespace) continue;
    if (p.selector) {
      if (selects(p.selector, workload.labels)) selected ??= p;
    } else if (!p.meshWide) {
      namespaceWide ??= p;
    }
  }
  const portMode = port === undefined ? undefined : selected?.portModes[port];
  return portMode ?? selected?.mode ?? namespaceWide?.mode ?? meshWide?.mode ?? DEFAULT_MTLS_MODE;
}
