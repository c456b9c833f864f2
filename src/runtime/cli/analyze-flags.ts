// `weftctl analyze`'s flags (apart from the command so --help never loads a client).
import { existingFile, switchValue } from './flag-values.ts';
import { defineCommand, type FlagValues } from './flags.ts';
import { outputFlag, kubeconfigFlag, controlPlaneNamespaceFlag, namespaceFlag } from './weftctl-flags.ts';

export const analyzeCommand = defineCommand({
  name: 'analyze',
  program: 'weftctl',
  summary: 'static checks of the mesh configuration, with a code and a fix hint each; exit status 1 on errors (for CI)',
  about: `Reads Services, EndpointSlices, Weft policies, namespaces and Pods with your kubeconfig. With -f, the
files are checked as if applied over what the cluster holds (add --local to check the files alone, before
anything exists). Exit status: 0 no errors (warnings allowed), 1 errors found, 2 bad flags or unreachable
API server. Codes are stable; docs/analyze.md lists them.`,
  flags: {
    namespace: namespaceFlag('check one namespace'),
    'all-namespaces': { kind: 'switch', short: 'A', help: 'check every namespace', schema: switchValue },
    filename: { kind: 'value', short: 'f', value: 'FILE|DIR', help: 'YAML files (or directories of them) to check', multiple: true, schema: existingFile },
    local: { kind: 'switch', help: 'check only the -f files; do not contact the API server', schema: switchValue },
    output: outputFlag,
    kubeconfig: kubeconfigFlag,
    'control-plane-namespace': controlPlaneNamespaceFlag,
  },
  check: (v) => [
    ...(v.local && v.filename.length === 0 ? ['--local needs -f'] : []),
    ...(v.namespace !== undefined && v['all-namespaces'] ? ['-n and -A exclude each other'] : []),
  ],
});

export type AnalyzeFlags = FlagValues<typeof analyzeCommand.flags>;
