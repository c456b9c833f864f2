// `weftctl config`'s flags (apart from the command so --help never loads a client).
import { defineCommand, type FlagValues } from './flags.ts';
import { controlPlaneNamespaceFlag, debugApiFlags, kubeconfigFlag, outputFlag, namespaceFlag } from './weftctl-flags.ts';

export const configCommand = defineCommand({
  name: 'config POD|PROXY-ID [clusters|listeners|routes|endpoints|secrets]',
  program: 'weftctl',
  summary: 'what the control plane serves one proxy (its pinned snapshot): clusters, listeners, routes, endpoints, secrets without key material',
  about: `Finds the replica the proxy is connected to (port-forward through the API server, your kubeconfig and
bearer token; you need get on proxies.mesh.weft.dev in the proxy's namespace). Secrets show names,
subjects, SANs and expiry; keys are never served. -o json|yaml prints Envoy's JSON of the resources.
Exit status 0, 1 when the Pod or its proxy cannot be found or the controller refuses, 2 on bad flags.`,
  flags: {
    namespace: namespaceFlag("the Pod's namespace"),
    output: outputFlag,
    kubeconfig: kubeconfigFlag,
    'control-plane-namespace': controlPlaneNamespaceFlag,
    ...debugApiFlags,
  },
});

export type ConfigFlags = FlagValues<typeof configCommand.flags>;
