// What examples/proxyless/client.ts prints: one JSON object per stdout line.

/** Cumulative counts, every --report-every calls. */
export interface CallProgress {
  readonly type: 'progress';
  readonly done: number;
  readonly ok: number;
  readonly errors: number;
  readonly byBackend: Record<string, number>;
}

/** The last line. */
export interface CallSummary {
  readonly type: 'summary';
  readonly target: string;
  readonly calls: number;
  readonly ok: number;
  readonly errors: number;
  readonly byBackend: Record<string, number>;
  /** First few distinct error messages. */
  readonly errorSamples: string[];
  /** From the first call's start to the last call's end. */
  readonly elapsedMs: number;
  /** Time until the first successful call (xDS resolution + connection). */
  readonly firstOkMs: number | undefined;
}

export type ClientLine = CallProgress | CallSummary;

/** Parses one output line; undefined for anything else (e.g. grpc trace output). */
export function parseClientLine(line: string): ClientLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(line) as { type?: unknown };
    return v.type === 'progress' || v.type === 'summary' ? (v as ClientLine) : undefined;
  } catch {
    return undefined;
  }
}

/** Percentage of successful calls `backend` answered. */
export function sharePercent(counts: { ok: number; byBackend: Record<string, number> }, backend: string): number {
  return counts.ok === 0 ? 0 : (100 * (counts.byBackend[backend] ?? 0)) / counts.ok;
}
