// `weft controller`'s flags, and the chart's environment variables that stand in for some of
// them (kept apart from controller.ts so `weft --help` and flag errors never load the
// controller).
import { z } from 'zod';
import { MeshPorts } from '../../base/mesh-ports.ts';
import { ROOT_SECRET_NAME } from '../../ca/secret-store.ts';
import { DEFAULT_TRUST_DOMAIN } from '../../ca/spiffe.ts';
import { duration, dnsLabel, egressValue, labelSelector, listenAddress, listenAddressOrOff, switchValue, text, trustDomain } from './flag-values.ts';
import { defineCommand, type FlagValues } from './flags.ts';
import { meshViewFlags } from './mesh-view-flags.ts';
import { xdsLimitFlags } from './xds-limit-flags.ts';

const CA = 'CA, identity and TLS (the CA is loaded unless both --xds-plaintext and --webhook-address=off)';
const WEBHOOK = 'Admission webhook (/inject, /validate)';

export const controllerCommand = defineCommand({
  name: 'controller',
  summary: 'the Kubernetes operator (CRDs, webhook, CA)',
  about: `Watches Weft resources, Services, EndpointSlices, Pods and Namespaces, serves xDS and the
admission webhook, and (while leader) writes status.`,
  flags: {
    kubeconfig: { kind: 'value', value: 'FILE', help: 'credentials', defaultText: 'in-cluster, then $KUBECONFIG / ~/.kube/config', schema: text },
    namespace: { kind: 'value', value: 'NS', help: 'control-plane namespace, home of the leader Lease', default: 'weft-system', schema: dnsLabel },
    'xds-address': {
      kind: 'value',
      value: 'HOST:PORT',
      help: 'ADS server',
      defaultText: `0.0.0.0:${MeshPorts.xdsTls} over TLS; 127.0.0.1:${MeshPorts.xdsPlaintext} with --xds-plaintext`,
      schema: listenAddress,
    },
    'xds-plaintext': { kind: 'switch', help: 'development only: ADS in plaintext, loopback only, no proxy authentication, no SDS', schema: switchValue },
    'monitoring-address': {
      kind: 'value',
      value: 'HOST:PORT',
      help: '/healthz /readyz /metrics, and /debug/* and the mesh view unless --debug-address moves them',
      default: `127.0.0.1:${MeshPorts.monitoring}`,
      schema: listenAddress,
    },
    'debug-address': {
      kind: 'value',
      value: 'HOST:PORT',
      help: 'a listener of its own for /debug/* and the mesh view (e.g. 127.0.0.1:15015 while --monitoring-address is 0.0.0.0)',
      defaultText: 'the monitoring listener',
      section: 'Mesh view (/mesh/) and debug API (/debug/*), docs/mesh-view.md',
      schema: listenAddress,
    },
    'debug-auth': {
      kind: 'value',
      value: 'none|kube',
      help: 'kube: a bearer token checked by TokenReview, authorized by SubjectAccessReview (get proxies.mesh.weft.dev); none: whoever reaches the listener',
      default: 'none',
      section: 'Mesh view (/mesh/) and debug API (/debug/*), docs/mesh-view.md',
      schema: z.enum(['none', 'kube']),
    },
    'leader-elect': { kind: 'switch', help: 'only the Lease holder writes status (--leader-elect=false: every replica)', default: 'true', schema: switchValue },
    'leader-identity': { kind: 'value', value: 'ID', help: 'replica identity', defaultText: '$POD_NAME, else hostname_pid', schema: text },
    'lease-name': { kind: 'value', value: 'NAME', help: 'the leader Lease', defaultText: 'weft-controller', schema: text },
    'lease-duration': { kind: 'value', value: 'DURATION', help: 'leader Lease duration', default: '15s', schema: duration() },
    'renew-deadline': { kind: 'value', value: 'DURATION', help: 'leader gives up if not renewed within', default: '10s', schema: duration() },
    'retry-period': { kind: 'value', value: 'DURATION', help: 'leader election retry period', default: '2s', schema: duration() },
    'watch-stall-timeout': {
      kind: 'value',
      value: 'DURATION',
      help: 'restart a watch that sent nothing (no event, no bookmark) this long',
      default: '5m',
      schema: duration(),
    },
    'informer-max-backoff': { kind: 'value', value: 'DURATION', help: 'cap of the informer restart backoff', default: '10s', schema: duration() },
    'report-lease-duration': {
      kind: 'value',
      value: 'DURATION',
      help: "lease of this replica's proxy report (Lease weft-replica-<identity>): the leader stops counting a replica's proxies this long after its last renewal",
      default: '15s',
      schema: duration({ ms: 1000, text: '1s' }),
    },
    'status-resync': { kind: 'value', value: 'DURATION', help: 'how often Programmed is re-evaluated', default: '1s', schema: duration() },
    'discovery-selector': {
      kind: 'value',
      value: 'SELECTOR',
      help: 'only namespaces whose labels match (e.g. weft.dev/mesh=prod) are in the mesh',
      schema: labelSelector,
    },
    'egress-default': {
      kind: 'value',
      value: 'SCOPE',
      help: 'weft.dev/egress of sidecars whose Pod and Namespace carry none (e.g. "./*, weft-system/*"); proxies without a bound Pod (client certificates, --xds-plaintext) get it when their WEFT_EGRESS is absent',
      defaultText: 'every Service',
      section: 'Egress scope (docs/scale.md)',
      schema: egressValue,
    },
    'ca-secret': {
      kind: 'value',
      value: 'NAME',
      help: 'Secret in --namespace holding the CA',
      default: ROOT_SECRET_NAME,
      env: 'WEFT_CA_SECRET',
      section: CA,
      schema: text,
    },
    'ca-create': {
      kind: 'switch',
      help: 'generate the root when the Secret is absent; false for a user-supplied root or intermediate (tls.crt + chain, tls.key, optional ca.crt)',
      default: 'true',
      section: CA,
      schema: switchValue,
    },
    'trust-domain': {
      kind: 'value',
      value: 'TD',
      help: 'SPIFFE trust domain',
      default: DEFAULT_TRUST_DOMAIN,
      env: 'WEFT_TRUST_DOMAIN',
      section: CA,
      schema: trustDomain,
    },
    'workload-cert-ttl': {
      kind: 'value',
      value: 'DURATION',
      help: 'lifetime of workload certificates served over SDS (renewed at about half)',
      defaultText: '24h',
      section: CA,
      schema: duration({ ms: 60_000, text: '1m' }),
    },
    'ca-rotation-soak': {
      kind: 'value',
      value: 'DURATION',
      help: 'minimum time in each root-rotation phase after every proxy ACKed it (rotation: next.crt/next.key in the CA Secret)',
      defaultText: '0s',
      section: CA,
      schema: duration(),
    },
    'webhook-address': {
      kind: 'value',
      value: 'HOST:PORT|off',
      help: 'HTTPS listen address, or "off"',
      default: `0.0.0.0:${MeshPorts.webhook}`,
      env: 'WEFT_WEBHOOK_ADDRESS',
      section: WEBHOOK,
      schema: listenAddressOrOff,
    },
    'webhook-service': {
      kind: 'value',
      value: 'NAME',
      help: 'webhook Service, named in the serving certificate',
      default: 'weft-webhook',
      env: 'WEFT_WEBHOOK_SERVICE',
      section: WEBHOOK,
      schema: dnsLabel,
    },
    'inject-values': {
      kind: 'value',
      value: 'FILE',
      help: 'injection settings JSON (chart values.json); its xdsAddress is what sidecars dial, and is named in the xDS serving certificate',
      env: 'WEFT_INJECT_VALUES',
      section: WEBHOOK,
      schema: text,
    },
    'mutating-webhook-configuration': {
      kind: 'value',
      value: 'NAME',
      help: 'whose caBundle the leader keeps current',
      env: 'WEFT_MUTATING_WEBHOOK_CONFIGURATION',
      section: WEBHOOK,
      schema: text,
    },
    'validating-webhook-configuration': {
      kind: 'value',
      value: 'NAME',
      help: 'likewise',
      env: 'WEFT_VALIDATING_WEBHOOK_CONFIGURATION',
      section: WEBHOOK,
      schema: text,
    },
    'cabundle-resync': {
      kind: 'value',
      value: 'DURATION',
      help: 'periodic caBundle check (a watch restores changes at once)',
      default: '10s',
      section: WEBHOOK,
      schema: duration(),
    },
    ...meshViewFlags,
    ...xdsLimitFlags,
  },
  check: (v) =>
    v['xds-plaintext'] && v['workload-cert-ttl'] !== undefined ? ['--workload-cert-ttl needs TLS xDS (SDS is not served with --xds-plaintext)'] : [],
});

export type ControllerFlags = FlagValues<typeof controllerCommand.flags>;
