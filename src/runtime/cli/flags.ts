// One way for every `weft` command to read its flags. node:util's parseArgs handles the
// syntax (`--flag value`, `--flag=value`, repeats, unknown flags); each flag then names its
// value placeholder, help, default and environment variable, and a zod schema that checks
// and converts the text. The --help text is generated from the same table, so it lists
// every flag. Every problem is reported at once, naming the flag and the reason; never a
// stack trace. Switches take `--x`, `--x=true` or `--x=false` (Kubernetes style).
import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { errorMessage } from '../../base/errors.ts';

export interface FlagSpec<T = unknown> {
  /** `value` takes an argument; `switch` is a boolean. */
  readonly kind: 'value' | 'switch';
  /** One-letter alias (`-n`), kubectl style. */
  readonly short?: string;
  /** The value's placeholder in the help (DIR, HOST:PORT). */
  readonly value?: string;
  readonly help: string;
  /** Repeatable: the values arrive as an array (empty when absent). */
  readonly multiple?: boolean;
  readonly required?: boolean;
  /** Text used when neither the flag nor its environment variable is set; shown in the help. */
  readonly default?: string;
  /** Shown in the help as the default when it is computed elsewhere. */
  readonly defaultText?: string;
  /** Read when the flag is absent; an empty value counts as absent. */
  readonly env?: string;
  /** Heading the flag is listed under in the help (flags without one come first). */
  readonly section?: string;
  /** Checks and converts one value; the issue's message is the reason shown. */
  readonly schema: z.ZodType<T, string>;
}

type AnySpec = FlagSpec<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export type FlagTable = Readonly<Record<string, AnySpec>>;

type One<F extends AnySpec> = z.output<F['schema']>;
type Always<F> = F extends { required: true } | { default: string } | { kind: 'switch' } | { multiple: true } ? true : false;
/** What a command's code receives: each flag's converted value, `undefined` only for optional flags left unset. */
export type FlagValues<T extends FlagTable> = {
  -readonly [K in keyof T]: T[K] extends { multiple: true } ? One<T[K]>[] : Always<T[K]> extends true ? One<T[K]> : One<T[K]> | undefined;
};

export interface Command<T extends FlagTable> {
  /** `weft <name>`. */
  readonly name: string;
  /** The program the command belongs to; `weft` unless said (`weftctl`). */
  readonly program?: string;
  /** One line for `weft --help`. */
  readonly summary: string;
  /** Paragraphs printed after the usage line. */
  readonly about?: string;
  readonly flags: T;
  /** Rules between flags, run once every flag parsed; each message names its flag. */
  check?(values: FlagValues<T>): string[];
}

/** A command's table with its flag literals kept (so `required: true` types the value as present). */
export function defineCommand<const T extends FlagTable>(command: Command<T>): Command<T> {
  return command;
}

export type FlagParse<T extends FlagTable> = { kind: 'help' } | { kind: 'error'; errors: string[] } | { kind: 'ok'; values: FlagValues<T> };

export function parseFlags<T extends FlagTable>(cmd: Command<T>, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): FlagParse<T> {
  if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' };
  const specs = Object.entries(cmd.flags);
  // A bare switch becomes `--x=true` so `--x=false` parses too; a short one becomes its long form.
  const switches = new Map<string, string>(
    specs
      .filter(([, s]) => s.kind === 'switch')
      .flatMap(([n, s]) => [[`--${n}`, `--${n}=true`] as const, ...(s.short ? [[`-${s.short}`, `--${n}=true`] as const] : [])]),
  );
  let given: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values: given } = parseArgs({
      args: argv.map((a) => switches.get(a) ?? a),
      options: Object.fromEntries(
        specs.map(([n, s]) => [n, { type: 'string' as const, multiple: s.multiple === true, ...(s.short && s.kind === 'value' ? { short: s.short } : {}) }]),
      ),
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    // node:util's messages name the flag: "Unknown option '--x'", "Option '--y <value>' argument missing".
    return { kind: 'error', errors: [errorMessage(err)] };
  }
  const values: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const [name, spec] of specs) {
    const raw = given[name];
    const fromEnv = raw === undefined && spec.env !== undefined ? env[spec.env] || undefined : undefined;
    const where = fromEnv === undefined ? `--${name}` : `--${name} (from ${spec.env})`;
    const texts = spec.multiple
      ? ((raw as string[] | undefined) ?? [])
      : [(raw as string | undefined) ?? fromEnv ?? spec.default ?? (spec.kind === 'switch' ? 'false' : undefined)];
    if (texts.length === 0 || texts[0] === undefined) {
      if (spec.required) errors.push(`--${name} is required`);
      if (spec.multiple) values[name] = [];
      continue;
    }
    const out: unknown[] = [];
    for (const text of texts as string[]) {
      const r = spec.schema.safeParse(text);
      if (r.success) out.push(r.data);
      else errors.push(`${where}: ${r.error.issues.map((i) => i.message).join('; ')}`);
    }
    values[name] = spec.multiple ? out : out[0];
  }
  if (errors.length === 0 && cmd.check) errors.push(...cmd.check(values as FlagValues<T>));
  return errors.length > 0 ? { kind: 'error', errors } : { kind: 'ok', values: values as FlagValues<T> };
}

/** `--name VALUE` (or `--name=true|false` for a switch), as help and synopses show it. */
export function flagLabel(name: string, spec: AnySpec, withShort = true): string {
  const long = spec.kind === 'switch' ? `--${name}` : `--${name} ${spec.value ?? 'VALUE'}`;
  return spec.short && withShort ? `-${spec.short}, ${long}` : long;
}

/** One line per flag (help, required/default/env), grouped by section. */
export function flagLines(flags: FlagTable, indent = '  '): string {
  const entries = Object.entries(flags);
  const width = Math.min(34, Math.max(...entries.map(([n, s]) => flagLabel(n, s).length)) + 2);
  const sections = [...new Set(entries.map(([, s]) => s.section ?? ''))];
  return sections
    .map((section) => {
      const lines = entries
        .filter(([, s]) => (s.section ?? '') === section)
        .map(([n, s]) => {
          const notes = [
            s.required ? 'required' : undefined,
            s.multiple ? 'repeatable' : undefined,
            s.default !== undefined || s.defaultText !== undefined ? `default ${s.defaultText ?? s.default}` : undefined,
            s.env ? `env ${s.env}` : undefined,
          ].filter((x) => x !== undefined);
          const label = flagLabel(n, s);
          const text = `${s.help}${notes.length > 0 ? ` [${notes.join('; ')}]` : ''}`;
          return label.length + 2 > width ? `${indent}${label}\n${indent}${' '.repeat(width)}${text}` : `${indent}${label.padEnd(width)}${text}`;
        });
      return `${section ? `\n${section}:\n` : ''}${lines.join('\n')}`;
    })
    .join('\n');
}

/** `--a A --b B [--c C] [--d]...`: required flags first, wrapped at 100 columns after `indent`. */
export function synopsis(flags: FlagTable, indent = ''): string {
  const entries = Object.entries(flags);
  const required = entries.filter(([, s]) => s.required).map(([n, s]) => flagLabel(n, s, false));
  const optional = entries.filter(([, s]) => !s.required).map(([n, s]) => `[${flagLabel(n, s, false)}]${s.multiple ? '...' : ''}`);
  const lines: string[] = [];
  for (const word of [...required, ...optional]) {
    const last = lines.at(-1);
    if (last !== undefined && indent.length + last.length + 1 + word.length <= 100) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines.map((l) => `${indent}${l}`).join('\n');
}

export function helpText<T extends FlagTable>(cmd: Command<T>): string {
  const required = Object.entries(cmd.flags).filter(([, s]) => s.required);
  const usage = `usage: ${cmd.program ?? 'weft'} ${cmd.name} ${[...required.map(([n, s]) => flagLabel(n, s, false)), '[flags]'].join(' ')}`;
  return `${usage}\n\n${cmd.about ? `${cmd.about.trim()}\n\n` : ''}flags:\n${flagLines(cmd.flags)}\n  -h, --help\n`;
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/** Parses, printing --help (exit 0) or every error with the usage (exit 2); the values when there is work to do. */
export function parseOrReport<T extends FlagTable>(cmd: Command<T>, argv: readonly string[], io: CliIo = processIo): FlagValues<T> | number {
  const r = parseFlags(cmd, argv);
  if (r.kind === 'help') {
    io.stdout(helpText(cmd));
    return 0;
  }
  if (r.kind === 'error') {
    io.stderr(`${r.errors.map((e) => `${cmd.program ?? 'weft'} ${cmd.name}: ${e}\n`).join('')}${helpText(cmd)}`);
    return 2;
  }
  return r.values;
}

/**
 * What a program does with a command word it has no command for: usage on stdout for
 * help (exit 0), on stderr with nothing (exit 2), or naming the unknown command (exit 2).
 */
export function noSuchCommand(program: string, command: string | undefined, usage: string, io: CliIo = processIo): number {
  if (command === '-h' || command === '--help' || command === 'help') {
    io.stdout(usage);
    return 0;
  }
  io.stderr(command === undefined ? usage : `${program}: unknown command "${command}"\n${usage}`);
  return 2;
}

/** Positional arguments apart from flags (and the values of value flags), for commands that take names. */
export function splitPositionals(flags: FlagTable, argv: readonly string[]): { positionals: string[]; flagArgs: string[] } {
  const valued = new Set(
    Object.entries(flags)
      .filter(([, s]) => s.kind === 'value')
      .flatMap(([n, s]) => [`--${n}`, ...(s.short ? [`-${s.short}`] : [])]),
  );
  const positionals: string[] = [];
  const flagArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (!a.startsWith('-') || a === '-') positionals.push(a);
    else {
      flagArgs.push(a);
      if (valued.has(a) && i + 1 < argv.length) flagArgs.push(argv[++i] ?? '');
    }
  }
  return { positionals, flagArgs };
}
