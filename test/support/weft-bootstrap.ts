import { runBootstrapAsync } from '../../src/runtime/cli/bootstrap.ts';

/** `weft bootstrap …` in-process (the same code path as the binary); resolves to the bootstrap YAML. */
export async function weftBootstrap(args: string[]): Promise<string> {
  let out = '';
  let err = '';
  const code = await runBootstrapAsync(args, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  if (code !== 0) throw new Error(`weft bootstrap exited ${code}: ${err}`);
  return out;
}

/**
 * `weft bootstrap` arguments for a sidecar of Service `sa` (service account, node id and label
 * `app` all named `sa`) in namespace shop, with its explicit outbound proxy on `outboundPort`.
 */
export function meshProxyArgs(at: { readonly xdsAddress: string; readonly caDir: string }, sa: string, outboundPort: number): string[] {
  return [
    ...['--namespace', 'shop', '--xds-address', at.xdsAddress, '--admin-port', '0', '--ca-dir', at.caDir],
    ...['--node-id', sa, '--service', sa, '--service-account', sa, '--label', `app=${sa}`, '--outbound-port', String(outboundPort)],
  ];
}
