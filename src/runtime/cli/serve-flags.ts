// `weft serve`'s flags (kept apart from serve.ts so `weft --help` and flag errors never load
// the control plane).
import { MeshPorts } from '../../base/mesh-ports.ts';
import { DEFAULT_TRUST_DOMAIN } from '../../ca/spiffe.ts';
import { absolutePath, directory, duration, egressValue, listenAddress, text, trustDomain } from './flag-values.ts';
import { defineCommand, type FlagValues } from './flags.ts';
import { meshViewFlags } from './mesh-view-flags.ts';
import { xdsLimitFlags } from './xds-limit-flags.ts';

export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'standalone control plane: serve xDS from a directory of YAML',
  about: `--ca-dir serves xDS over TLS (default address 127.0.0.1:${MeshPorts.xdsTls}) with a certificate from the CA in DIR
(created on first start), authenticates proxies by client certificate (\`weft bootstrap --ca-dir\`), and
serves each proxy its workload certificate over SDS. Without it xDS is plaintext, loopback only,
unauthenticated, and no certificates are served. A next CA (chain then key) put in
DIR/weft-root-ca.next.pem starts a root rotation without downtime (docs/ca-and-identity.md).`,
  flags: {
    'config-dir': {
      kind: 'value',
      value: 'DIR',
      help: 'Services, EndpointSlices and Weft resources (watched); an object in two directories comes from the first',
      required: true,
      multiple: true,
      schema: directory,
    },
    'xds-address': {
      kind: 'value',
      value: 'HOST:PORT',
      help: 'ADS listen address',
      defaultText: `127.0.0.1:${MeshPorts.xdsPlaintext}; 127.0.0.1:${MeshPorts.xdsTls} with --ca-dir`,
      schema: listenAddress,
    },
    'monitoring-address': {
      kind: 'value',
      value: 'HOST:PORT',
      help: '/healthz, /readyz, /metrics, debug API, mesh view (/mesh/)',
      default: `127.0.0.1:${MeshPorts.monitoring}`,
      schema: listenAddress,
    },
    'ca-dir': { kind: 'value', value: 'DIR', help: 'TLS xDS, client-certificate authentication and SDS from the CA in DIR', schema: absolutePath },
    'trust-domain': { kind: 'value', value: 'TD', help: 'SPIFFE trust domain', default: DEFAULT_TRUST_DOMAIN, schema: trustDomain },
    'egress-default': {
      kind: 'value',
      value: 'SCOPE',
      help: 'weft.dev/egress of proxies whose node metadata has no WEFT_EGRESS (e.g. "./*"; docs/scale.md)',
      defaultText: 'every Service',
      schema: egressValue,
    },
    'workload-cert-ttl': {
      kind: 'value',
      value: 'DURATION',
      help: 'lifetime of certificates served over SDS (needs --ca-dir)',
      defaultText: '24h',
      schema: duration({ ms: 10_000, text: '10s' }),
    },
    'ca-rotation-soak': {
      kind: 'value',
      value: 'DURATION',
      help: 'minimum time in each root-rotation phase, after every proxy ACKed it (needs --ca-dir)',
      defaultText: '0s',
      schema: duration(),
    },
    'xds-san': { kind: 'value', value: 'NAME|IP', help: 'extra name in the xDS serving certificate (needs --ca-dir)', multiple: true, schema: text },
    ...meshViewFlags,
    ...xdsLimitFlags,
  },
  check: (v) =>
    v['ca-dir'] === undefined && (v['workload-cert-ttl'] !== undefined || v['ca-rotation-soak'] !== undefined || v['xds-san'].length > 0)
      ? ['--workload-cert-ttl, --ca-rotation-soak and --xds-san need --ca-dir']
      : [],
});

export type ServeFlags = FlagValues<typeof serveCommand.flags>;
