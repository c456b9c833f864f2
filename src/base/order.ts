// Deterministic string order for anything that must sort the same in every process.

/** Code-unit string order: locale-independent, so every process sorts the same. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
