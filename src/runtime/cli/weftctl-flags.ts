// Flags every weftctl command that reads the mesh shares, one definition each, so their names,
// defaults and help read the same in every command's --help.
import { z } from 'zod';
import { DEFAULT_TRUST_DOMAIN } from '../../ca/spiffe.ts';
import { DEFAULT_CONTROL_PLANE_NAMESPACE } from '../../model/build.ts';
import { absolutePath, dnsLabel, trustDomain } from './flag-values.ts';
import type { FlagSpec } from './flags.ts';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;

export const outputFlag = {
  kind: 'value',
  short: 'o',
  value: 'FORMAT',
  help: 'table, json or yaml',
  default: 'table',
  schema: z.enum(OUTPUT_FORMATS, { error: 'must be table, json or yaml' }),
} as const satisfies FlagSpec;

export const kubeconfigFlag = { kind: 'value', value: 'FILE', help: 'kubeconfig file', env: 'KUBECONFIG', schema: absolutePath } as const satisfies FlagSpec;

export const trustDomainFlag = {
  kind: 'value',
  value: 'TD',
  help: "the mesh's SPIFFE trust domain",
  default: DEFAULT_TRUST_DOMAIN,
  schema: trustDomain,
} as const satisfies FlagSpec;

export const controlPlaneNamespaceFlag = {
  kind: 'value',
  value: 'NS',
  help: "Weft's namespace (mesh-wide PeerAuth lives there)",
  default: DEFAULT_CONTROL_PLANE_NAMESPACE,
  schema: dnsLabel,
} as const satisfies FlagSpec;
