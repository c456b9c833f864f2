// `weftctl preview`'s flags (apart from the command so --help never loads translation).
import { existingFile, switchValue } from './flag-values.ts';
import { defineCommand, type FlagValues } from './flags.ts';
import { outputFlag, kubeconfigFlag, trustDomainFlag, controlPlaneNamespaceFlag, namespaceFlag } from './weftctl-flags.ts';

export const previewCommand = defineCommand({
  name: 'preview',
  program: 'weftctl',
  summary: 'the Envoy configuration diff that applying files would cause, per proxy group, without applying anything',
  about: `Reads the mesh from the cluster with your kubeconfig, puts the -f objects over it, and translates both
for every meshed Pod in scope with the functions the control plane serves with: each group of proxies that
would receive the same change is listed with the routes, clusters, listeners and endpoints added, changed
(with the JSON Patch from old to new) or removed. Nothing is applied. With --local (no cluster), the files
alone are the "after" and nothing the "before", for one sidecar in the namespace.`,
  flags: {
    filename: {
      kind: 'value',
      short: 'f',
      value: 'FILE|DIR',
      help: 'the change: YAML files or directories',
      required: true,
      multiple: true,
      schema: existingFile,
    },
    namespace: namespaceFlag('proxies of one namespace'),
    'all-namespaces': { kind: 'switch', short: 'A', help: 'proxies of every namespace', schema: switchValue },
    local: { kind: 'switch', help: 'do not contact the API server', schema: switchValue },
    output: outputFlag,
    kubeconfig: kubeconfigFlag,
    'trust-domain': trustDomainFlag,
    'control-plane-namespace': controlPlaneNamespaceFlag,
  },
  check: (v) => (v.namespace !== undefined && v['all-namespaces'] ? ['-n and -A exclude each other'] : []),
});

export type PreviewFlags = FlagValues<typeof previewCommand.flags>;
