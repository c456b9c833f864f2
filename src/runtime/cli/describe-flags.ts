// `weftctl describe pod`'s flags (apart from the command so --help never loads a client).
import { defineCommand, type FlagValues } from './flags.ts';
import { outputFlag, kubeconfigFlag, trustDomainFlag, controlPlaneNamespaceFlag, namespaceFlag } from './weftctl-flags.ts';

export const describeCommand = defineCommand({
  name: 'describe pod POD',
  program: 'weftctl',
  summary: "the policies that shape a Pod's traffic: its identity, inbound ports with their mTLS mode and the PeerAuth that decided it, splits and retries",
  flags: {
    namespace: namespaceFlag("the Pod's namespace"),
    output: outputFlag,
    kubeconfig: kubeconfigFlag,
    'trust-domain': trustDomainFlag,
    'control-plane-namespace': controlPlaneNamespaceFlag,
  },
});

export type DescribeFlags = FlagValues<typeof describeCommand.flags>;
