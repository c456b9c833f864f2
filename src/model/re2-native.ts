// The real RE2 (through a small Node-API addon, scripts/re2/weft_re2.cc), so the model judges a
// pattern with the engine and the program-size measure Envoy uses. Built per clone by
// scripts/install-re2.sh (run by scripts/setup.sh) into node_modules/.weft-re2; the weft image
// carries it at the same path. WEFT_RE2_ADDON names another build.
import { createRequire } from 'node:module';

export interface Re2Verdict {
  /** RE2's own parse error, as Envoy would report it. */
  readonly error?: string;
  /** RE2::ProgramSize(), the figure Envoy compares with re2.max_program_size.error_level. */
  readonly programSize?: number;
}

interface Addon {
  check(pattern: string, latin1: boolean): Re2Verdict;
}

const DEFAULT_PATH = new URL('../../node_modules/.weft-re2/weft_re2.node', import.meta.url).pathname;

function load(): Addon | undefined {
  const path = process.env.WEFT_RE2_ADDON || DEFAULT_PATH;
  try {
    return createRequire(import.meta.url)(path) as Addon;
  } catch {
    return undefined;
  }
}

let addon: Addon | undefined | null = null;

/** RE2's verdict on `pattern` in the given encoding, or undefined when the addon is not installed here. */
export function re2Check(pattern: string, encoding: 'latin1' | 'utf8'): Re2Verdict | undefined {
  if (addon === null) addon = load();
  return addon?.check(pattern, encoding === 'latin1');
}

/** Whether the real RE2 judges patterns in this process (false: the JavaScript approximation). */
export function re2Available(): boolean {
  if (addon === null) addon = load();
  return addon !== undefined;
}
