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

/** `-n NS`: the kubectl-style namespace flag; `help` says what it narrows in each command. */
export function namespaceFlag(help: string) {
  return { kind: 'value', short: 'n', value: 'NS', help, defaultText: "the kubeconfig context's, else default", schema: dnsLabel } as const satisfies FlagSpec;
}

const DEBUG_SECTION = "Reaching the controller's debug API (docs/weftctl.md)";

/** How weftctl reaches the controller's debug API (debug-client.ts), shared by status and config. */
export const debugApiFlags = {
  token: {
    kind: 'value',
    value: 'TOKEN',
    help: 'bearer token for the debug API (e.g. $(kubectl create token <serviceaccount>)); needed when your kubeconfig user has a client certificate and no token',
    defaultText: "the kubeconfig user's token",
    env: 'WEFTCTL_TOKEN',
    section: DEBUG_SECTION,
    schema: z.string().min(1, 'must not be empty'),
  },
  release: {
    kind: 'value',
    value: 'NAME',
    help: 'the Helm release: the controller Pods are labelled app.kubernetes.io/instance=NAME',
    default: 'weft',
    section: DEBUG_SECTION,
    schema: dnsLabel,
  },
  'debug-url': {
    kind: 'value',
    value: 'URL',
    help: 'ask this debug API (e.g. http://127.0.0.1:15015 after kubectl port-forward, or a controller outside the cluster) instead of port-forwarding to each controller Pod; repeatable, one per replica',
    multiple: true,
    section: DEBUG_SECTION,
    schema: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  },
} as const satisfies Record<string, FlagSpec>;
