#!/usr/bin/env node
// `weft` — the control plane binary. Every command's flags are parsed and checked here, by
// one parser (flags.ts) from one table per command; the command itself loads only once its
// flags are good, so --help and flag errors are instant.
import { bootstrapCommand, bootstrapFlags } from './bootstrap-flags.ts';
import { cniNodeCommand } from './cni-node-flags.ts';
import { controllerCommand } from './controller-flags.ts';
import { flagLines, noSuchCommand, parseOrReport, synopsis } from './flags.ts';
import { serveCommand } from './serve-flags.ts';

const col = (name: string): string => `  ${name.padEnd(12)}`;
const indent = ' '.repeat(14);

const usage = `usage: weft <command> [flags]     (weft <command> --help: that command's flags)

commands:
${col('serve')}${serveCommand.summary}
${flagLines(serveCommand.flags, indent)}
${col('controller')}${controllerCommand.summary}; see \`weft controller --help\`
${col('bootstrap')}${bootstrapCommand.summary}
${synopsis(bootstrapCommand.flags, indent)}
${indent}see \`weft bootstrap --help\`
${col('cni-node')}${cniNodeCommand.summary}; see \`weft cni-node --help\`
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const flags = parseOrReport(serveCommand, rest);
      return typeof flags === 'number' ? flags : (await import('./serve.ts')).serveWith(flags);
    }
    case 'controller': {
      const flags = parseOrReport(controllerCommand, rest);
      return typeof flags === 'number' ? flags : (await import('./controller.ts')).controllerWith(flags);
    }
    case 'bootstrap': {
      // Resolves to the real exit code (--ca-dir issues a certificate: 1 when the CA is missing).
      const flags = parseOrReport(bootstrapCommand, rest);
      return typeof flags === 'number' ? flags : (await import('./bootstrap.ts')).bootstrapWith(bootstrapFlags(flags));
    }
    case 'cni-node': {
      const flags = parseOrReport(cniNodeCommand, rest);
      return typeof flags === 'number' ? flags : (await import('./cni-node.ts')).cniNodeWith(flags);
    }
    default:
      return noSuchCommand('weft', command, usage);
  }
}

const code = await main(process.argv.slice(2));
if (code !== 0) process.exitCode = code;
