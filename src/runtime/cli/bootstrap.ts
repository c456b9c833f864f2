// `weft bootstrap`: print the Envoy bootstrap for a proxy outside Kubernetes (a VM, a dev
// laptop, the demo). Bad flags are reported by name with exit code 2, never a stack trace.
// Flags are bootstrap-flags.ts's (shared with the `weft` binary's dispatcher).
import { renderBootstrap } from '../../../xds/bootstrap/bootstrap.ts';
import { caFromDir, issueClientCertificate } from '../../identity/ca-dir.ts';
import { bootstrapCommand, bootstrapFlags, type ParsedFlags } from './bootstrap-flags.ts';
import { helpText, parseOrReport, processIo, type CliIo } from './flags.ts';

export { DEFAULT_CLIENT_CERT_TTL_MS, parseBootstrapFlags, type ClientIdentityFlags, type ParsedFlags } from './bootstrap-flags.ts';
export type { CliIo } from './flags.ts';

/** `weft bootstrap --help`. */
export const bootstrapUsage = helpText(bootstrapCommand);

/**
 * `weft bootstrap` without `--ca-dir`, synchronously; returns the exit code (0 ok, 2 usage
 * error). Issuing a certificate is asynchronous: `--ca-dir` throws here, use runBootstrapAsync
 * (what the weft binary runs).
 */
export function runBootstrap(argv: string[], io: CliIo = processIo): number {
  const parsed = bootstrapOrReport(argv, io);
  if (typeof parsed === 'number') return parsed;
  if (parsed.identity?.kind === 'ca-dir') throw new TypeError('runBootstrap: --ca-dir issues a certificate; call runBootstrapAsync');
  io.stdout(renderBootstrap(parsed.options).yaml);
  return 0;
}

/** Handles --help and flag errors (printing them); an exit code, or the parsed flags to act on. */
function bootstrapOrReport(argv: string[], io: CliIo): number | Extract<ParsedFlags, { ok: true }> {
  const flags = parseOrReport(bootstrapCommand, argv, io);
  return typeof flags === 'number' ? flags : bootstrapFlags(flags);
}

/** `weft bootstrap` with every option, `--ca-dir` included; resolves to the exit code (1: CA problem). */
export async function runBootstrapAsync(argv: string[], io: CliIo = processIo): Promise<number> {
  const parsed = bootstrapOrReport(argv, io);
  return typeof parsed === 'number' ? parsed : bootstrapWith(parsed, io);
}

/** Prints the bootstrap the parsed flags ask for, issuing the client certificate for `--ca-dir`; the exit code (1: CA problem). */
export async function bootstrapWith(parsed: Extract<ParsedFlags, { ok: true }>, io: CliIo = processIo): Promise<number> {
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
