// `weftctl describe pod`'s flags (apart from the command so --help never loads a client).
import { z } from 'zod';
import { DEFAULT_TRUST_DOMAIN } from '../../ca/spiffe.ts';
import { DEFAULT_CONTROL_PLANE_NAMESPACE } from '../../model/build.ts';
import { absolutePath, dnsLabel, trustDomain } from './flag-values.ts';
import { defineCommand, type FlagValues } from './flags.ts';

export const describeCommand = defineCommand({
  name: 'describe pod POD',
  program: 'weftctl',
  summary: "the policies that shape a Pod's traffic: its identity, inbound ports with their mTLS mode and the PeerAuth that decided it, splits and retries",
  flags: {
    namespace: { kind: 'value', short: 'n', value: 'NS', help: "the Pod's namespace", defaultText: "the kubeconfig context's, else default", schema: dnsLabel },
    output: {
      kind: 'value',
      short: 'o',
      value: 'FORMAT',
      help: 'table, json or yaml',
      default: 'table',
      schema: z.enum(['table', 'json', 'yaml'], { error: 'must be table, json or yaml' }),
    },
    kubeconfig: { kind: 'value', value: 'FILE', help: 'kubeconfig file', env: 'KUBECONFIG', schema: absolutePath },
    'trust-domain': { kind: 'value', value: 'TD', help: "the mesh's SPIFFE trust domain", default: DEFAULT_TRUST_DOMAIN, schema: trustDomain },
    'control-plane-namespace': {
      kind: 'value',
      value: 'NS',
      help: "Weft's namespace (mesh-wide PeerAuth lives there)",
      default: DEFAULT_CONTROL_PLANE_NAMESPACE,
      schema: dnsLabel,
    },
  },
});

export type DescribeFlags = FlagValues<typeof describeCommand.flags>;
