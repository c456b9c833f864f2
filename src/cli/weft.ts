#!/usr/bin/env node
// `weft` — the control plane binary. Subcommands load lazily so `weft bootstrap` stays fast.
const usage = `usage: weft <command> [flags]

commands:
  serve       --config-dir DIR [--xds-address 127.0.0.1:15010] [--monitoring-address 127.0.0.1:15014]
              standalone control plane: serve xDS from a directory of YAML
  controller  [--kubeconfig FILE] ...   the Kubernetes operator (CRDs, webhook, CA)
  bootstrap   --node-id ID --namespace NS --service NAME --xds-address HOST:PORT
              print an Envoy bootstrap for a proxy outside Kubernetes
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return (await import('./serve.ts')).runServe(rest);
    case 'controller':
      return (await import('./controller.ts')).runController(rest);
    case 'bootstrap':
      return (await import('./bootstrap.ts')).runBootstrap(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(usage);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`weft: unknown command "${command}"\n${usage}`);
      return 2;
  }
}

const code = await main(process.argv.slice(2));
if (code !== 0) process.exitCode = code;
