// `weftctl status`'s flags (apart from the command so --help never loads a client).
import { z } from 'zod';
import { switchValue } from './flag-values.ts';
import { defineCommand, type FlagValues } from './flags.ts';
import { controlPlaneNamespaceFlag, debugApiFlags, kubeconfigFlag, namespaceFlag } from './weftctl-flags.ts';

export const statusCommand = defineCommand({
  name: 'status',
  program: 'weftctl',
  summary: 'every proxy connected to any controller replica: pod, identity, replica, per type sent/ACKed version, SYNCED / STALE / NACKED',
  about: `Asks every ready controller Pod (port-forward through the API server, your kubeconfig) for its proxies,
with your bearer token: you see the proxies of the namespaces you may get proxies.mesh.weft.dev in.
STATUS: SYNCED every type ACKed at the version sent; STALE a sent version not ACKed yet; NACKED the proxy
rejected the latest version of a type (Envoy's message follows the table). Exit status 0, 1 when the
controller cannot be asked or refuses, 2 on bad flags.`,
  flags: {
    namespace: namespaceFlag('proxies of one namespace'),
    'all-namespaces': { kind: 'switch', short: 'A', help: 'proxies of every namespace you may read', schema: switchValue },
    output: {
      kind: 'value',
      short: 'o',
      value: 'FORMAT',
      help: 'table, wide (versions sent/ACKed per type, proxy id, age), json or yaml',
      default: 'table',
      schema: z.enum(['table', 'wide', 'json', 'yaml'], { error: 'must be table, wide, json or yaml' }),
    },
    kubeconfig: kubeconfigFlag,
    'control-plane-namespace': controlPlaneNamespaceFlag,
    ...debugApiFlags,
  },
  check: (v) => (v.namespace !== undefined && v['all-namespaces'] ? ['-n and -A exclude each other'] : []),
});

export type StatusFlags = FlagValues<typeof statusCommand.flags>;
