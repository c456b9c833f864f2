// `weftctl check`'s flags (apart from the command so --help never loads a client).
import { dnsLabel, switchValue } from './flag-values.ts';
import { defineCommand, type FlagValues } from './flags.ts';
import { kubeconfigFlag } from './weftctl-flags.ts';

export const checkCommand = defineCommand({
  name: 'check',
  program: 'weftctl',
  summary: 'pre- and post-install checks, one line each: API server, CRDs, controller and leader, webhooks and their caBundle, root CA',
  about: `Exit status 0 when nothing failed (warnings allowed), 1 when a check failed, 2 on bad flags.
Before install (--pre) only the API server and the CRDs are checked.`,
  flags: {
    namespace: { kind: 'value', short: 'n', value: 'NS', help: "Weft's namespace", default: 'weft-system', schema: dnsLabel },
    release: { kind: 'value', value: 'NAME', help: 'the Helm release (label app.kubernetes.io/instance)', default: 'weft', schema: dnsLabel },
    pre: { kind: 'switch', help: 'before install: check only the API server and the CRDs', schema: switchValue },
    kubeconfig: kubeconfigFlag,
  },
});

export type CheckFlags = FlagValues<typeof checkCommand.flags>;
