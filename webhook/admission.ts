// AdmissionReview v1 in, AdmissionReview v1 out. Parsing is zod; every failure names the field.
// The handlers are plain functions so the server stays thin and tests can call them directly.
import { z } from 'zod';
import { injectPod, type InjectContext, type SkipReason, type DenyReason } from './inject.ts';
import { jsonPatch } from './json-patch.ts';
import { PodSchema } from './pod.ts';

export const AdmissionRequestSchema = z.looseObject({
  uid: z.string().min(1),
  kind: z.looseObject({ group: z.string(), version: z.string(), kind: z.string() }),
  resource: z.looseObject({ group: z.string(), version: z.string(), resource: z.string() }).optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
  operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
  dryRun: z.boolean().optional(),
  object: z.unknown().optional(),
  oldObject: z.unknown().optional(),
});

export const AdmissionReviewSchema = z.object({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  request: AdmissionRequestSchema,
});

export type AdmissionRequest = z.infer<typeof AdmissionRequestSchema>;

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  status?: { code: number; message: string };
  warnings?: string[];
}

export interface AdmissionReviewOut {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

export type ValidateResult = { allowed: true; warnings?: string[] } | { allowed: false; message: string };
export type Validator = (req: AdmissionRequest) => ValidateResult | Promise<ValidateResult>;

export type Parsed = { ok: true; request: AdmissionRequest } | { ok: false; uid?: string; reason: string };

/** Parses a request body; a string uid is recovered even from an otherwise invalid review. */
export function parseReview(body: unknown): Parsed {
  const r = AdmissionReviewSchema.safeParse(body);
  if (r.success) return { ok: true, request: r.data.request };
  const uid = (body as { request?: { uid?: unknown } } | null)?.request?.uid;
  return { ok: false, ...(typeof uid === 'string' && uid ? { uid } : {}), reason: issuesText(r.error.issues) };
}

export function issuesText(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(body)'}: ${i.message}`)
    .join('; ');
}

export function review(response: AdmissionResponse): AdmissionReviewOut {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

/** What /inject decided, for the response, the log and the metrics. */
export type InjectOutcome =
  | { result: 'injected'; response: AdmissionResponse; patchOps: number }
  | { result: 'skipped'; reason: SkipReason | 'not-a-pod-create'; message: string; response: AdmissionResponse }
  | { result: 'invalid'; reason: string; response: AdmissionResponse }
  | { result: 'denied'; reason: DenyReason; message: string; response: AdmissionResponse };

export function handleInject(req: AdmissionRequest, ctx: InjectContext): InjectOutcome {
  const uid = req.uid;
  if (req.kind.kind !== 'Pod' || req.operation !== 'CREATE') {
    return {
      result: 'skipped',
      reason: 'not-a-pod-create',
      message: `only Pod CREATE is injected, got ${req.kind.kind} ${req.operation}`,
      response: { uid, allowed: true },
    };
  }
  const pod = PodSchema.safeParse(req.object);
  if (!pod.success) {
    const reason = issuesText(pod.error.issues.map((i) => ({ ...i, path: ['request', 'object', ...i.path] })));
    return { result: 'invalid', reason, response: { uid, allowed: false, status: { code: 400, message: reason } } };
  }
  const namespace = req.namespace || pod.data.metadata?.namespace || 'default';
  const r = injectPod(pod.data, namespace, ctx);
  if ('skip' in r) return { result: 'skipped', reason: r.skip.reason, message: r.skip.message, response: { uid, allowed: true } };
  if ('deny' in r) {
    const message = `weft: ${r.deny.message}`;
    return { result: 'denied', reason: r.deny.reason, message, response: { uid, allowed: false, status: { code: 403, message } } };
  }
  // Diff against the parsed (loose) pod: it equals the request object for every field we keep.
  const ops = jsonPatch(pod.data, r.pod);
  const response: AdmissionResponse = { uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') };
  // The API server may truncate warnings over 256 characters; user values can be long.
  if (r.warnings.length) response.warnings = r.warnings.slice(0, 10).map((w) => (w.length > 200 ? `${w.slice(0, 197)}...` : w));
  return { result: 'injected', response, patchOps: ops.length };
}
