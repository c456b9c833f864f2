#!/usr/bin/env node
// `weftctl` — the operator CLI (shared/design/architecture.md): runs on the user's kubeconfig,
// never execs into Pods. Same flag parser and conventions as `weft` (flags.ts): --help per
// command, every flag problem named, exit 2 on bad flags.
import { analyzeCommand } from './analyze-flags.ts';
import { bootstrapCommand, bootstrapFlags } from './bootstrap-flags.ts';
import { checkCommand } from './check-flags.ts';
import { configCommand } from './config-flags.ts';
import { describeCommand } from './describe-flags.ts';
import { noSuchCommand, parseOrReport, splitPositionals } from './flags.ts';
import { CONFIG_SECTIONS, type ConfigSection } from '../proxy-config-format.ts';
import { previewCommand } from './preview-flags.ts';
import { statusCommand } from './status-flags.ts';

const weftctlBootstrap = { ...bootstrapCommand, program: 'weftctl' };

const col = (name: string): string => `  ${name.padEnd(12)}`;

const usage = `usage: weftctl <command> [flags]     (weftctl <command> --help: that command's flags)

commands:
${col('check')}${checkCommand.summary}
${col('status')}${statusCommand.summary}
${col('config')}${configCommand.summary}
${col('analyze')}${analyzeCommand.summary}
${col('describe')}${describeCommand.summary}
${col('preview')}${previewCommand.summary}
${col('bootstrap')}${bootstrapCommand.summary} (as \`weft bootstrap\`)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'check': {
      const flags = parseOrReport(checkCommand, rest);
      return typeof flags === 'number' ? flags : (await import('./check.ts')).checkWith(flags);
    }
    case 'status': {
      const flags = parseOrReport(statusCommand, rest);
      return typeof flags === 'number' ? flags : (await import('./status.ts')).statusWith(flags);
    }
    case 'config': {
      const { positionals, flagArgs } = splitPositionals(configCommand.flags, rest);
      if (flagArgs.includes('--help') || flagArgs.includes('-h')) return parseOrReport(configCommand, ['--help']) as number;
      const [name, section, ...extra] = positionals;
      if (name === undefined || extra.length > 0 || (section !== undefined && !(CONFIG_SECTIONS as readonly string[]).includes(section))) {
        process.stderr.write(`weftctl config: usage: weftctl config POD|PROXY-ID [${CONFIG_SECTIONS.join('|')}] [-n NS] [-o table|json|yaml]\n`);
        return 2;
      }
      const flags = parseOrReport(configCommand, flagArgs);
      return typeof flags === 'number' ? flags : (await import('./config.ts')).configWith(name, section as ConfigSection | undefined, flags);
    }
    case 'analyze': {
      const flags = parseOrReport(analyzeCommand, rest);
      return typeof flags === 'number' ? flags : (await import('./analyze.ts')).analyzeWith(flags);
    }
    case 'describe': {
      // `describe pod NAME`: the one resource kind it describes today, named like kubectl's.
      const [kind, name, ...flagArgs] = rest;
      if (kind === '--help' || kind === '-h') return parseOrReport(describeCommand, ['--help']) as number;
      if (kind !== 'pod' || name === undefined || name.startsWith('-')) {
        process.stderr.write('weftctl describe: usage: weftctl describe pod POD [-n NS] [-o table|json|yaml]\n');
        return 2;
      }
      const flags = parseOrReport(describeCommand, flagArgs);
      return typeof flags === 'number' ? flags : (await import('./describe.ts')).describeWith(name, flags);
    }
    case 'preview': {
      const flags = parseOrReport(previewCommand, rest);
      return typeof flags === 'number' ? flags : (await import('./preview.ts')).previewWith(flags);
    }
    case 'bootstrap': {
      const flags = parseOrReport(weftctlBootstrap, rest);
      return typeof flags === 'number' ? flags : (await import('./bootstrap.ts')).bootstrapWith(bootstrapFlags(flags));
    }
    default:
      return noSuchCommand('weftctl', command, usage);
  }
}

const code = await main(process.argv.slice(2));
if (code !== 0) process.exitCode = code;
