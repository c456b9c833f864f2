// `weft bootstrap`'s flags and what they add up to: the bootstrap options, and how the proxy
// authenticates to xDS. Bad flags are reported by name with exit code 2, never a stack trace.
import { z } from 'zod';
import type { BootstrapOptions } from '../../../xds/bootstrap/bootstrap.ts';
import { MeshPorts } from '../../base/mesh-ports.ts';
import { LABEL_VALUE, LABEL_VALUE_MAX } from '../../api/bounds.ts';
import { DEFAULT_TRUST_DOMAIN } from '../../ca/spiffe.ts';
import { absolutePath, dialAddress, dnsLabel, duration, egressText, existingFile, port, serviceAccountName, switchValue, trustDomain } from './flag-values.ts';
import { defineCommand, parseFlags, type FlagTable, type FlagValues } from './flags.ts';

/** Client certificates cannot be revoked: --cert-ttl is bounded (the default is the bound). */
const MAX_CLIENT_CERT_TTL_MS = 30 * 24 * 3_600_000;

const IDENTITY = 'How the proxy authenticates to xDS (TLS): a certificate issued now, or files it already has';

const flags = {
  'node-id': {
    kind: 'value',
    value: 'ID',
    help: "the proxy's node id",
    required: true,
    schema: z.string().min(1, 'must not be empty').regex(/^\S+$/, 'must not contain whitespace'),
  },
  namespace: { kind: 'value', value: 'NS', help: "the namespace of the proxy's Service", required: true, schema: dnsLabel },
  service: { kind: 'value', value: 'NAME', help: 'the Service the proxy fronts', required: true, schema: dnsLabel },
  'xds-address': { kind: 'value', value: 'HOST:PORT', help: 'the xDS server to dial', required: true, schema: dialAddress },
  'outbound-port': {
    kind: 'value',
    value: 'PORT',
    help: 'explicit outbound HTTP proxy on 127.0.0.1',
    defaultText: String(MeshPorts.outbound),
    schema: port(1),
  },
  'inbound-port': { kind: 'value', value: 'PORT', help: "accept the Service's traffic on 0.0.0.0:PORT", schema: port(1) },
  'admin-port': { kind: 'value', value: 'PORT', help: 'Envoy admin on 127.0.0.1', defaultText: String(MeshPorts.admin), schema: port(0) },
  label: {
    kind: 'value',
    value: 'KEY=VALUE',
    help: "a label of the proxy's workload",
    multiple: true,
    schema: z.string().regex(/^[^=\s]+=\S*$/, 'must be KEY=VALUE'),
  },
  delta: { kind: 'switch', help: 'Delta xDS instead of state of the world', schema: switchValue },
  zone: {
    kind: 'value',
    value: 'ZONE',
    help: "the proxy's zone (node.locality.zone), which BackendPolicy zone failover prefers",
    schema: z
      .string()
      .min(1, 'must not be empty')
      .max(LABEL_VALUE_MAX, `must be at most ${LABEL_VALUE_MAX} characters`)
      .regex(LABEL_VALUE, 'must be a label value'),
  },
  egress: {
    kind: 'value',
    value: 'SCOPE',
    help: 'only the outbound config of these Services, weft.dev/egress syntax: "shop/*, payments/billing, ./*" (docs/scale.md)',
    defaultText: 'every Service',
    schema: egressText,
  },
  'ca-dir': { kind: 'value', value: 'DIR', help: 'issue a client certificate from the CA in DIR', section: IDENTITY, schema: absolutePath },
  'identity-namespace': {
    kind: 'value',
    value: 'NS',
    help: "the identity's namespace (with --ca-dir)",
    defaultText: '--namespace',
    section: IDENTITY,
    schema: dnsLabel,
  },
  'service-account': {
    kind: 'value',
    value: 'SA',
    help: "the identity's ServiceAccount (with --ca-dir)",
    defaultText: 'default',
    section: IDENTITY,
    schema: serviceAccountName,
  },
  'trust-domain': {
    kind: 'value',
    value: 'TD',
    help: 'SPIFFE trust domain (with --ca-dir)',
    defaultText: DEFAULT_TRUST_DOMAIN,
    section: IDENTITY,
    schema: trustDomain,
  },
  'cert-ttl': {
    kind: 'value',
    value: 'DURATION',
    help: "the client certificate's lifetime, at most 720h: it cannot be revoked (with --ca-dir; re-run to renew)",
    defaultText: '720h',
    section: IDENTITY,
    // A client certificate cannot be revoked (no CRL or OCSP in the mesh): a lost one is good
    // until it expires, so its life is bounded (issue 13).
    schema: duration({ ms: 60_000, text: '1m', example: '720h' }).refine((ms) => ms <= MAX_CLIENT_CERT_TTL_MS, {
      message: 'must be at most 720h (30 days): client certificates cannot be revoked, so a lost one is good until it expires',
    }),
  },
  cert: { kind: 'value', value: 'FILE', help: 'client certificate chain (PEM) Envoy reads', section: IDENTITY, schema: existingFile },
  key: { kind: 'value', value: 'FILE', help: "the certificate's private key (PEM)", section: IDENTITY, schema: existingFile },
  ca: { kind: 'value', value: 'FILE', help: "roots the xDS server's certificate must chain to (PEM)", section: IDENTITY, schema: existingFile },
} as const satisfies FlagTable;

type Flags = FlagValues<typeof flags>;

export const bootstrapCommand = defineCommand({
  name: 'bootstrap',
  summary: 'print an Envoy bootstrap for a proxy outside Kubernetes',
  about: `Prints an Envoy v3 bootstrap (YAML) on stdout. The proxy gets its listeners, routes and
clusters over ADS from the xDS server at --xds-address; the explicit outbound HTTP proxy
listens on 127.0.0.1:--outbound-port, admin on 127.0.0.1:--admin-port. With --inbound-port,
the proxy also accepts the service's traffic on 0.0.0.0:--inbound-port (the endpoint port
clients dial; mTLS as PeerAuth says) and forwards it to the app on 127.0.0.1:<targetPort>.

With --ca-dir (the directory of \`weft serve --ca-dir\`), the proxy dials xDS over TLS and
authenticates with a client certificate issued now for
spiffe://TD/ns/NS/sa/SA (NS defaults to --namespace, SA to "default"); the certificate and
its private key are inlined in the bootstrap, so keep the output private. With
--cert/--key/--ca, Envoy reads those files instead (paths made absolute).`,
  flags,
  check: (f: Flags): string[] => [
    ...(f['inbound-port'] !== undefined && f['inbound-port'] === (f['outbound-port'] ?? MeshPorts.outbound)
      ? [`--inbound-port: must differ from the outbound port (${f['inbound-port']})`]
      : []),
    ...identityProblems(f),
    // The xDS server refuses a proxy claiming a namespace other than its certificate's (issue 13).
    ...(f['identity-namespace'] !== undefined && f.namespace !== undefined && f['identity-namespace'] !== f.namespace
      ? [
          `--identity-namespace ${f['identity-namespace']} differs from --namespace ${f.namespace}: the xDS server refuses a proxy claiming a namespace other than its certificate's`,
        ]
      : []),
  ],
});

function identityProblems(f: Flags): string[] {
  const files = (['cert', 'key', 'ca'] as const).filter((k) => f[k] !== undefined);
  if (f['ca-dir'] !== undefined) return files.length > 0 ? [`--ca-dir: not together with ${files.map((k) => `--${k}`).join(', ')}`] : [];
  const caOnly = (['identity-namespace', 'service-account', 'trust-domain', 'cert-ttl'] as const).filter((k) => f[k] !== undefined);
  if (caOnly.length > 0) return caOnly.map((k) => `--${k}: only with --ca-dir`);
  if (files.length === 0) return [];
  return (['cert', 'key', 'ca'] as const).filter((k) => f[k] === undefined).map((k) => `--${k} is required with ${files.map((x) => `--${x}`).join(', ')}`);
}

/** How the proxy authenticates to xDS: a certificate issued from the CA directory, or files it already has. */
export type ClientIdentityFlags =
  | { kind: 'ca-dir'; caDir: string; namespace: string; serviceAccount: string; trustDomain: string; ttlMs: number }
  | { kind: 'files'; cert: string; key: string; ca: string };

/** Client certificates from `weft bootstrap --ca-dir` live this long unless told (re-run to renew). */
export const DEFAULT_CLIENT_CERT_TTL_MS = 30 * 24 * 3_600_000;

export type ParsedFlags = { ok: true; options: BootstrapOptions; identity?: ClientIdentityFlags } | { ok: false; errors: string[] };

/** Parses `weft bootstrap` flags; every problem names its flag. */
export function parseBootstrapFlags(argv: string[]): ParsedFlags {
  const r = parseFlags(bootstrapCommand, argv);
  if (r.kind === 'error') return { ok: false, errors: r.errors };
  if (r.kind === 'help') return { ok: false, errors: ['--help: not a bootstrap'] };
  return bootstrapFlags(r.values);
}

/** The bootstrap options and client identity the (already validated) flags ask for. */
export function bootstrapFlags(f: Flags): Extract<ParsedFlags, { ok: true }> {
  const identity: ClientIdentityFlags | undefined =
    f['ca-dir'] !== undefined
      ? {
          kind: 'ca-dir',
          caDir: f['ca-dir'],
          namespace: f['identity-namespace'] ?? f.namespace,
          serviceAccount: f['service-account'] ?? 'default',
          trustDomain: f['trust-domain'] ?? DEFAULT_TRUST_DOMAIN,
          ttlMs: f['cert-ttl'] ?? DEFAULT_CLIENT_CERT_TTL_MS,
        }
      : f.cert !== undefined && f.key !== undefined && f.ca !== undefined
        ? { kind: 'files', cert: f.cert, key: f.key, ca: f.ca }
        : undefined;
  const labels = Object.fromEntries(f.label.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return {
    ok: true,
    options: {
      nodeId: f['node-id'],
      namespace: f.namespace,
      service: f.service,
      xdsAddress: f['xds-address'],
      outboundPort: f['outbound-port'],
      inboundPort: f['inbound-port'],
      adminPort: f['admin-port'],
      // Admin serves /stats/prometheus: the control plane's mesh view scrapes it there.
      ...(f['admin-port'] !== 0 ? { statsPort: f['admin-port'] } : {}),
      labels,
      delta: f.delta,
      capture: false,
      ...(f.zone !== undefined ? { zone: f.zone } : {}),
      ...(f.egress !== undefined ? { egress: f.egress } : {}),
      ...(identity?.kind === 'files'
        ? { tls: { certChain: { file: identity.cert }, privateKey: { file: identity.key }, trustedCa: { file: identity.ca } } }
        : {}),
    },
    ...(identity !== undefined ? { identity } : {}),
  };
}
