// `weft bootstrap`: print the Envoy bootstrap for a proxy outside Kubernetes (a VM, a dev
// laptop, the demo). Bad flags are reported by name with exit code 2, never a stack trace.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseHostPort, renderBootstrap, type BootstrapOptions } from '../../xds/bootstrap.ts';
import { MeshPorts } from '../mesh-ports.ts';

export const bootstrapUsage = `usage: weft bootstrap --node-id ID --namespace NS --service NAME --xds-address HOST:PORT
                      [--outbound-port ${MeshPorts.outbound}] [--admin-port ${MeshPorts.admin}] [--label KEY=VALUE]... [--delta]

Prints an Envoy v3 bootstrap (YAML) on stdout. The proxy gets its listeners, routes and
clusters over ADS from the xDS server at --xds-address; the explicit outbound HTTP proxy
listens on 127.0.0.1:--outbound-port, admin on 127.0.0.1:--admin-port.
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
  'admin-port': port(0).optional(),
  label: z
    .array(z.string().regex(/^[^=\s]+=\S*$/, 'must be KEY=VALUE'))
    .optional(),
  delta: z.boolean().optional(),
});

export type ParsedFlags = { ok: true; options: BootstrapOptions } | { ok: false; errors: string[] };

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
        'admin-port': { type: 'string' },
        label: { type: 'string', multiple: true },
        delta: { type: 'boolean' },
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
  const labels = Object.fromEntries((f.label ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return {
    ok: true,
    options: {
      nodeId: f['node-id'],
      namespace: f.namespace,
      service: f.service,
      xdsAddress: f['xds-address'],
      outboundPort: f['outbound-port'],
      adminPort: f['admin-port'],
      labels,
      delta: f.delta ?? false,
      capture: false,
    },
  };
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/** Entry point for `weft bootstrap`; returns the exit code (0 ok, 2 usage error). */
export function runBootstrap(argv: string[], io: CliIo = processIo): number {
  if (argv.includes('-h') || argv.includes('--help')) {
    io.stdout(bootstrapUsage);
    return 0;
  }
  const parsed = parseBootstrapFlags(argv);
  if (!parsed.ok) {
    io.stderr(parsed.errors.map((e) => `weft bootstrap: ${e}\n`).join('') + bootstrapUsage);
    return 2;
  }
  io.stdout(renderBootstrap(parsed.options).yaml);
  return 0;
}
