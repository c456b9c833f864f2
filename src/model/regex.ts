// Envoy matches regular expressions with RE2 and refuses, for the whole resource that holds
// it, any pattern RE2 cannot parse or whose compiled program is larger than
// re2.max_program_size.error_level (default 100 instructions). One such pattern in one
// TrafficSplit would make the route configuration it lands in NACKed, freezing routing for
// every Service in it, so the model and the validating webhook refuse it first, with RE2
// itself (re2-native.ts). Envoy 1.40 compiles patterns in RE2's Latin-1 encoding (measured
// with `envoy --mode validate`: `.{48}` passes and `.{49}` fails, 2k+4 instructions, where
// UTF-8 would count 388; `[\x{100}-\x{200}]` fails to parse), so that is the encoding checked;
// test/model/regex-envoy.integration.test.ts holds the verdicts to Envoy's on a corpus, and
// fails if an Envoy upgrade changes them. Where the addon is missing, the JavaScript
// approximation below only catches what RE2 lacks (lookaround, backreferences) and cannot
// measure program size.
import { errorMessage } from '../base/errors.ts';
import { re2Check } from './re2-native.ts';

/** Envoy's default re2.max_program_size.error_level: larger programs are rejected. */
export const ENVOY_MAX_PROGRAM_SIZE = 100;
const ENVOY_ENCODING = 'latin1';

const RE2_UNSUPPORTED: readonly (readonly [RegExp, string])[] = [
  [/\(\?<?[=!]/, 'lookaround assertions are not supported by RE2'],
  [/\\[1-9]/, 'backreferences are not supported by RE2'],
  [/\\k</, 'named backreferences are not supported by RE2'],
];

function approximateProblem(pattern: string): string | undefined {
  for (const [construct, why] of RE2_UNSUPPORTED) if (construct.test(pattern)) return why;
  try {
    new RegExp(pattern, 'u');
    return undefined;
  } catch (err) {
    return `invalid regular expression: ${errorMessage(err)}`;
  }
}

/** Undefined when Envoy will accept the pattern, otherwise why not. */
export function regexProblem(pattern: string): string | undefined {
  const verdict = re2Check(pattern, ENVOY_ENCODING);
  if (!verdict) return approximateProblem(pattern);
  if (verdict.error !== undefined) return `${unsupported(verdict.error) ?? 'RE2 cannot parse it'} (RE2: ${verdict.error})`;
  const size = verdict.programSize ?? 0;
  if (size > ENVOY_MAX_PROGRAM_SIZE)
    return `its RE2 program size is ${size}, over Envoy's limit of ${ENVOY_MAX_PROGRAM_SIZE} (re2.max_program_size.error_level); use fewer or smaller repetitions or alternatives`;
  return undefined;
}

/** RE2's parse errors name the construct, not why JavaScript users expect it to work. */
function unsupported(error: string): string | undefined {
  if (/\(\?<?[=!]/.test(error)) return 'lookaround assertions are not supported by RE2';
  if (/\\[1-9k]/.test(error)) return 'backreferences are not supported by RE2';
  return undefined;
}
