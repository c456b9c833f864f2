// The message of anything thrown. `catch` binds `unknown`: `(err as Error).message` is
// undefined for a thrown string or object, and every log line and problem wants text.

/** An Error's message; anything else thrown, as a string. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
