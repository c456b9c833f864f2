// `weft bootstrap`: print the Envoy bootstrap for a proxy outside Kubernetes (a VM, a dev
// laptop, the demo). Bad flags are reported by name with exit code 2, never a stack trace.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseHostPort, renderBootstrap, type BootstrapOptions } from '../../../xds/bootstrap/bootstrap.ts';
import { DEFAULT_TRUST_DOMAIN, isValidTrustDomain } from '../../ca/spiffe.ts';
import { parseDurationMs } from '../../api/duration.ts';
import { caFromDir, issueClientCertificate } from '../../identity/ca-dir.ts';
import { MeshPorts } from '../../base/mesh-ports.ts';

export const bootstrapUsage = `usage: weft bootstrap --node-id ID --namespace NS --service NAME --xds-address HOST:PORT
                      [--outbound-port ${MeshPorts.outbound}] [--inbound-port PORT] [--admin-port ${MeshPorts.admin}] [--label KEY=VALUE]... [--delta]
                      [--ca-dir DIR [--identity-namespace NS] [--service-account SA] [--trust-domain TD] [--cert-ttl 720h]
                       | --cert FILE --key FILE --ca FILE]

Prints an Envoy v3 bootstrap (YAML) on stdout. The proxy gets its listeners, routes and
clusters over ADS from the xDS server at --xds-address; the explicit outbound HTTP proxy
listens on 127.0.0.1:--outbound-port, admin on 127.0.0.1:--admin-port. With --inbound-port,
the proxy also accepts the service's traffic on 0.0.0.0:--inbound-port (the endpoint port
clients dial; mTLS as PeerAuth says) and forwards it to the app on 127.0.0.1:<targetPort>.

With --ca-dir (the directory of \`weft serve --ca-dir\`), the proxy dials xDS over TLS and
authenticates with a client certificate issued now for
spiffe://TD/ns/NS/sa/SA (NS defaults to --namespace, SA to "default"); the certificate and
its private key are inlined in the bootstrap, so keep the output private. With
--cert/--key/--ca, Envoy reads those files instead (paths made absolute).
`;

// RFC 1123 label, as Kubernetes requires for namespaces and Service names.
const dnsLabel = z
  .string()
  .min(1, 'must not be empty')
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase RFC 1123 label (a-z, 0-9, -)');

const port = (min: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a number')
    .transform(Number)
    .refine((n) => n >= min && n <= 65535, `must be in ${min}-65535`);

const flagsSchema = z.object({
  'node-id': z.string().min(1, 'must not be empty').regex(/^\S+$/, 'must not contain whitespace'),
  namespace: dnsLabel,
  service: dnsLabel,
  'xds-address': z.string().superRefine((v, ctx) => {
    const hp = parseHostPort(v);
    if (!hp.ok) ctx.addIssue({ code: 'custom', message: hp.reason });
  }),
  'outbound-port': port(1).optional(),
  'inbound-port': port(1).optional(),
  'admin-port': port(0).optional(),
  label: z.array(z.string().regex(/^[^=\s]+=\S*$/, 'must be KEY=VALUE')).optional(),
  delta: z.boolean().optional(),
  'ca-dir': z.string().min(1, 'must not be empty').optional(),
  'identity-namespace': dnsLabel.optional(),
  'service-account': z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a Kubernetes ServiceAccount name')
    .optional(),
  'trust-domain': z.string().refine(isValidTrustDomain, 'must be lowercase letters, digits, ".", "-" or "_"').optional(),
  'cert-ttl': z
    .string()
    .transform((v, ctx) => {
      const ms = parseDurationMs(v);
      if (ms === undefined || ms < 60_000) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration of at least 1m (e.g. 720h)` });
        return z.NEVER;
      }
      return ms;
    })
    .optional(),
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  ca: z.string().min(1).optional(),
});

/** How the proxy authenticates to xDS: a certificate issued from the CA directory, or files it already has. */
export type ClientIdentityFlags =
  | { kind: 'ca-dir'; caDir: string; namespace: string; serviceAccount: string; trustDomain: string; ttlMs: number }
  | { kind: 'files'; cert: string; key: string; ca: string };

/** Client certificates from `weft bootstrap --ca-dir` live this long unless told (re-run to renew). */
export const DEFAULT_CLIENT_CERT_TTL_MS = 30 * 24 * 3_600_000;

export type ParsedFlags = { ok: true; options: BootstrapOptions; identity?: ClientIdentityFlags } | { ok: false; errors: string[] };

/** Parses `weft bootstrap` flags; every problem names its flag. */
export function parseBootstrapFlags(argv: string[]): ParsedFlags {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'node-id': { type: 'string' },
        namespace: { type: 'string' },
        service: { type: 'string' },
        'xds-address': { type: 'string' },
        'outbound-port': { type: 'string' },
        'inbound-port': { type: 'string' },
        'admin-port': { type: 'string' },
        label: { type: 'string', multiple: true },
        delta: { type: 'boolean' },
        'ca-dir': { type: 'string' },
        'identity-namespace': { type: 'string' },
        'service-account': { type: 'string' },
        'trust-domain': { type: 'string' },
        'cert-ttl': { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        ca: { type: 'string' },
      },
    }));
  } catch (err) {
    // node:util's messages already name the flag ("Unknown option '--x'", "Option '--y <value>' argument missing").
    return { ok: false, errors: [(err as Error).message] };
  }
  const parsed = flagsSchema.safeParse(values);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => {
      const flag = `--${String(i.path[0] ?? '?')}`;
      return i.code === 'invalid_type' && i.input === undefined ? `${flag} is required` : `${flag}: ${i.message}`;
    });
    return { ok: false, errors };
  }
  const f = parsed.data;
  const identity = identityFlags(f);
  const errors = [
    ...(f['inbound-port'] !== undefined && f['inbound-port'] === (f['outbound-port'] ?? MeshPorts.outbound)
      ? [`--inbound-port: must differ from the outbound port (${f['inbound-port']})`]
      : []),
    ...(identity !== undefined && 'errors' in identity ? identity.errors : []),
  ];
  if (errors.length > 0 || (identity !== undefined && 'errors' in identity)) return { ok: false, errors };
  const labels = Object.fromEntries((f.label ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
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
      labels,
      delta: f.delta ?? false,
      capture: false,
      ...(identity?.kind === 'files'
        ? { tls: { certChain: { file: identity.cert }, privateKey: { file: identity.key }, trustedCa: { file: identity.ca } } }
        : {}),
    },
    ...(identity !== undefined ? { identity } : {}),
  };
}

function identityFlags(f: z.output<typeof flagsSchema>): ClientIdentityFlags | { errors: string[] } | undefined {
  const files = (['cert', 'key', 'ca'] as const).filter((k) => f[k] !== undefined);
  const caOnly = (['identity-namespace', 'service-account', 'trust-domain', 'cert-ttl'] as const).filter((k) => f[k] !== undefined);
  if (f['ca-dir'] !== undefined) {
    if (files.length > 0) return { errors: [`--ca-dir: not together with ${files.map((k) => `--${k}`).join(', ')}`] };
    return {
      kind: 'ca-dir',
      caDir: resolve(f['ca-dir']),
      namespace: f['identity-namespace'] ?? f.namespace,
      serviceAccount: f['service-account'] ?? 'default',
      trustDomain: f['trust-domain'] ?? DEFAULT_TRUST_DOMAIN,
      ttlMs: f['cert-ttl'] ?? DEFAULT_CLIENT_CERT_TTL_MS,
    };
  }
  if (caOnly.length > 0) return { errors: caOnly.map((k) => `--${k}: only with --ca-dir`) };
  if (files.length === 0) return undefined;
  const errors = (['cert', 'key', 'ca'] as const).flatMap((k) => {
    const v = f[k];
    if (v === undefined) return [`--${k} is required with ${files.map((x) => `--${x}`).join(', ')}`];
    return existsSync(v) ? [] : [`--${k}: ${v}: no such file`];
  });
  if (errors.length > 0) return { errors };
  return { kind: 'files', cert: resolve(f.cert!), key: resolve(f.key!), ca: resolve(f.ca!) };
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/**
 * `weft bootstrap` without `--ca-dir`, synchronously; returns the exit code (0 ok, 2 usage
 * error). Issuing a certificate is asynchronous: `--ca-dir` throws here, use runBootstrapAsync
 * (what the weft binary runs).
 */
export function runBootstrap(argv: string[], io: CliIo = processIo): number {
  const parsed = parseOrReport(argv, io);
  if (typeof parsed === 'number') return parsed;
  if (parsed.identity?.kind === 'ca-dir') throw new TypeError('runBootstrap: --ca-dir issues a certificate; call runBootstrapAsync');
  io.stdout(renderBootstrap(parsed.options).yaml);
  return 0;
}

/** Handles --help and flag errors (printing them); an exit code, or the parsed flags to act on. */
function parseOrReport(argv: string[], io: CliIo): number | Extract<ReturnType<typeof parseBootstrapFlags>, { ok: true }> {
  if (argv.includes('-h') || argv.includes('--help')) {
    io.stdout(bootstrapUsage);
    return 0;
  }
  const parsed = parseBootstrapFlags(argv);
  if (!parsed.ok) {
    io.stderr(parsed.errors.map((e) => `weft bootstrap: ${e}\n`).join('') + bootstrapUsage);
    return 2;
  }
  return parsed;
}

/** `weft bootstrap` with every option, `--ca-dir` included; resolves to the exit code (1: CA problem). */
export async function runBootstrapAsync(argv: string[], io: CliIo = processIo): Promise<number> {
  const parsed = parseOrReport(argv, io);
  if (typeof parsed === 'number') return parsed;
  let options = parsed.options;
  const id = parsed.identity;
  if (id?.kind === 'ca-dir') {
    const ca = await caFromDir(id.caDir, { trustDomain: id.trustDomain, create: false });
    if (!ca.ok) {
      io.stderr(`weft bootstrap: --ca-dir: ${ca.error}\n`);
      return 1;
    }
    const cert = await issueClientCertificate(ca.ca, { namespace: id.namespace, serviceAccount: id.serviceAccount, ttlMs: id.ttlMs });
    if (!cert.ok) {
      io.stderr(`weft bootstrap: client certificate: ${cert.error}\n`);
      return 1;
    }
    options = {
      ...options,
      tls: { certChain: { inline: cert.cert.chainPem }, privateKey: { inline: cert.cert.keyPem }, trustedCa: { inline: cert.cert.trustBundlePem } },
    };
  }
  io.stdout(renderBootstrap(options).yaml);
  return 0;
}
