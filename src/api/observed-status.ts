// The `status` a Weft CR currently has on the API server, read tolerantly: whatever a
// user or an older controller wrote there, we get a (possibly empty) list of conditions
// and never an exception.
import { z } from 'zod';

export interface StatusCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
}

export interface ObservedStatus {
  readonly observedGeneration?: number;
  readonly summary?: string;
  readonly conditions: readonly StatusCondition[];
}

const ConditionSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().catch(''),
  message: z.string().catch(''),
  observedGeneration: z.int().optional().catch(undefined),
  lastTransitionTime: z.string().catch(''),
});

const StatusSchema = z.object({
  observedGeneration: z.int().optional().catch(undefined),
  summary: z.string().optional().catch(undefined),
  conditions: z
    .array(z.unknown())
    .catch([])
    .transform((list) =>
      list.flatMap((c) => {
        const r = ConditionSchema.safeParse(c);
        return r.success ? [r.data] : [];
      }),
    ),
});

export function toObservedStatus(raw: unknown): ObservedStatus {
  const r = StatusSchema.safeParse(raw ?? {});
  if (!r.success) return { conditions: [] };
  return {
    ...(r.data.observedGeneration !== undefined ? { observedGeneration: r.data.observedGeneration } : {}),
    ...(r.data.summary !== undefined ? { summary: r.data.summary } : {}),
    conditions: r.data.conditions.map((c) => ({
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
      ...(c.observedGeneration !== undefined ? { observedGeneration: c.observedGeneration } : {}),
      lastTransitionTime: c.lastTransitionTime,
    })),
  };
}
