// `weft cni-node`'s flags (the weft-cni DaemonSet's container; docs/cni.md).
import { absolutePath, port, text } from './flag-values.ts';
import { defineCommand, type FlagValues } from './flags.ts';

export const cniNodeCommand = defineCommand({
  name: 'cni-node',
  summary: 'install the weft-cni plugin on this node and keep it there (the CNI DaemonSet)',
  about: `Copies the weft-cni plugin into --bin-dir, chains it into the first CNI configuration of --conf-dir,
deletes meshed Pods of --node-name that started before it (they have no capture), and on SIGTERM removes
both, restoring the configuration byte for byte.`,
  flags: {
    'bin-dir': { kind: 'value', value: 'DIR', help: "the node's CNI bin dir (same path in the Pod)", default: '/opt/cni/bin', schema: absolutePath },
    'conf-dir': {
      kind: 'value',
      value: 'DIR',
      help: "the node's CNI configuration dir (same path in the Pod)",
      default: '/etc/cni/net.d',
      schema: absolutePath,
    },
    'log-file': { kind: 'value', value: 'FILE', help: "where the plugin logs each meshed Pod's capture latency (node path)", schema: absolutePath },
    'app-dir': { kind: 'value', value: 'DIR', help: "Weft's sources to copy the plugin from", default: '/app', schema: absolutePath },
    'node-binary': { kind: 'value', value: 'FILE', help: 'the node binary to copy', default: process.execPath, schema: absolutePath },
    'node-name': { kind: 'value', value: 'NAME', help: 'this node (repairs its Pods); no repair without it', schema: text },
    'health-port': { kind: 'value', value: 'PORT', help: '/healthz and /ready (ready once chained)', default: '15031', schema: port(1) },
    kubeconfig: { kind: 'value', value: 'FILE', help: 'API credentials for repair (default: in-cluster)', schema: absolutePath },
  },
});

export type CniNodeFlags = FlagValues<typeof cniNodeCommand.flags>;
