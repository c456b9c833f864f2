// Envoy matches regular expressions with RE2. JavaScript's engine accepts more, so
// reject the constructs RE2 lacks (lookaround, backreferences) and anything JS cannot
// compile. A CRD cannot say this; the model (and the validating webhook) can.
import { errorMessage } from '../base/errors.ts';

const RE2_UNSUPPORTED: readonly (readonly [RegExp, string])[] = [
  [/\(\?<?[=!]/, 'lookaround assertions are not supported by RE2'],
  [/\\[1-9]/, 'backreferences are not supported by RE2'],
  [/\\k</, 'named backreferences are not supported by RE2'],
];

/** Undefined when the pattern is acceptable, otherwise why not. */
export function regexProblem(pattern: string): string | undefined {
  for (const [construct, why] of RE2_UNSUPPORTED) if (construct.test(pattern)) return why;
  try {
    new RegExp(pattern, 'u');
    return undefined;
  } catch (err) {
    return `invalid regular expression: ${errorMessage(err)}`;
  }
}
