// The mTLS mode in force for one workload (and optionally one of its ports). Most
// specific wins: port-level > workload selector > namespace-wide > mesh-wide >
// PERMISSIVE. UNSET at any level defers to the next.
import type { MeshModel, MtlsMode, PeerAuthPolicy } from './types.ts';

export const DEFAULT_MTLS_MODE: MtlsMode = 'PERMISSIVE';

function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Where a workload's mode came from: the deciding PeerAuth and its level, or the default. */
export interface MtlsDecision {
  readonly mode: MtlsMode;
  readonly level: 'port' | 'workload' | 'namespace' | 'mesh' | 'default';
  readonly policy?: PeerAuthPolicy['policy'];
}

export function mtlsDecision(
  model: Pick<MeshModel, 'peerAuths'>,
  workload: { namespace: string; labels: Readonly<Record<string, string>> },
  port?: number,
): MtlsDecision {
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
  if (portMode && selected) return { mode: portMode, level: 'port', policy: selected.policy };
  if (selected?.mode) return { mode: selected.mode, level: 'workload', policy: selected.policy };
  if (namespaceWide?.mode) return { mode: namespaceWide.mode, level: 'namespace', policy: namespaceWide.policy };
  if (meshWide?.mode) return { mode: meshWide.mode, level: 'mesh', policy: meshWide.policy };
  return { mode: DEFAULT_MTLS_MODE, level: 'default' };
}

export function effectiveMtls(
  model: Pick<MeshModel, 'peerAuths'>,
  workload: { namespace: string; labels: Readonly<Record<string, string>> },
  port?: number,
): MtlsMode {
  return mtlsDecision(model, workload, port).mode;
}
