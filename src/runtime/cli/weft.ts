#!/usr/bin/env node
// `weft` — the control plane binary. Subcommands load lazily so `weft bootstrap` stays fast.
const usage = `usage: weft <command> [flags]

commands:
  serve       standalone control plane: serve xDS from a directory of YAML
              --config-dir DIR ...             Services, EndpointSlices and Weft resources (required; watched;
                                               repeatable, an object in two directories comes from the first)
              --xds-address HOST:PORT          ADS listen address (127.0.0.1:15010; 127.0.0.1:15012 with --ca-dir)
              --monitoring-address HOST:PORT   /healthz, /readyz, /metrics, debug API (127.0.0.1:15014)
              --ca-dir DIR                     TLS xDS, client-certificate authentication and SDS from the CA in DIR
              --trust-domain TD                SPIFFE trust domain (cluster.local)
              --workload-cert-ttl DURATION     lifetime of certificates served over SDS (24h; needs --ca-dir)
              --xds-san NAME|IP ...            extra names in the xDS serving certificate (needs --ca-dir)
  controller  the Kubernetes operator (CRDs, webhook, CA); see \`weft controller --help\`
  bootstrap   print an Envoy bootstrap for a proxy outside Kubernetes
              --node-id ID --namespace NS --service NAME --xds-address HOST:PORT (required)
              [--outbound-port PORT] [--inbound-port PORT] [--admin-port PORT] [--label KEY=VALUE]... [--delta]
              [--ca-dir DIR ... | --cert FILE --key FILE --ca FILE]; see \`weft bootstrap --help\`
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return (await import('./serve.ts')).runServe(rest);
    case 'controller':
      return (await import('./controller.ts')).runController(rest);
    case 'bootstrap':
      // The async entry point handles every flag (--ca-dir issues a certificate) and
      // resolves to the real exit code.
      return (await import('./bootstrap.ts')).runBootstrapAsync(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      (command === undefined ? process.stderr : process.stdout).write(usage);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`weft: unknown command "${command}"\n${usage}`);
      return 2;
  }
}

const code = await main(process.argv.slice(2));
if (code !== 0) process.exitCode = code;
