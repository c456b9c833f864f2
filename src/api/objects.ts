// The validated config objects Weft reads, whichever source produced them, and the
// one entry point that turns an untrusted document into one of them (or problems).
import type { z } from 'zod';
import { BackendPolicySchema, type BackendPolicyObject } from './backend-policy.ts';
import { AuthorizationPolicySchema, type AuthorizationPolicyObject } from './authorization-policy.ts';
import { problemsFrom, type FieldProblem } from './common.ts';
import { EndpointSliceSchema, type EndpointSliceObject } from './endpoint-slice.ts';
import { FaultPolicySchema, type FaultPolicyObject } from './fault-policy.ts';
import { PeerAuthSchema, type PeerAuthObject } from './peer-auth.ts';
import { RateLimitPolicySchema, type RateLimitPolicyObject } from './rate-limit-policy.ts';
import { RetryPolicySchema, type RetryPolicyObject } from './retry-policy.ts';
import { ServiceSchema, type ServiceObject } from './service.ts';
import { TrafficSplitSchema, type TrafficSplitObject } from './traffic-split.ts';
import { WEFT_API_VERSION } from './weft-meta.ts';

export type {
  AuthorizationPolicyObject,
  BackendPolicyObject,
  EndpointSliceObject,
  FaultPolicyObject,
  PeerAuthObject,
  RateLimitPolicyObject,
  RetryPolicyObject,
  ServiceObject,
  TrafficSplitObject,
  FieldProblem,
};
export { SERVICE_NAME_LABEL } from './endpoint-slice.ts';

export type ConfigObject =
  | ServiceObject
  | EndpointSliceObject
  | TrafficSplitObject
  | RetryPolicyObject
  | PeerAuthObject
  | BackendPolicyObject
  | AuthorizationPolicyObject
  | FaultPolicyObject
  | RateLimitPolicyObject;
export type ConfigKind = ConfigObject['kind'];

/**
 * The Weft policy kinds: the custom resources Weft resolves into the model and writes status
 * for. The one list: the informers, the status writer, the validating webhook, the model's
 * statuses and the tests derive theirs from it.
 */
export const POLICY_KINDS = [
  'TrafficSplit',
  'RetryPolicy',
  'PeerAuth',
  'BackendPolicy',
  'AuthorizationPolicy',
  'FaultPolicy',
  'RateLimitPolicy',
] as const satisfies readonly ConfigKind[];
export type PolicyKind = (typeof POLICY_KINDS)[number];
export type WeftPolicyObject = Extract<ConfigObject, { kind: PolicyKind }>;

export function isPolicyKind(kind: string): kind is PolicyKind {
  return (POLICY_KINDS as readonly string[]).includes(kind);
}

export type ParseResult = { ok: true; object: ConfigObject } | { ok: false; problems: FieldProblem[] };

const KINDS: Readonly<Record<ConfigKind, { apiVersion: string; schema: z.ZodType<ConfigObject> }>> = {
  Service: { apiVersion: 'v1', schema: ServiceSchema },
  EndpointSlice: { apiVersion: 'discovery.k8s.io/v1', schema: EndpointSliceSchema },
  TrafficSplit: { apiVersion: WEFT_API_VERSION, schema: TrafficSplitSchema },
  RetryPolicy: { apiVersion: WEFT_API_VERSION, schema: RetryPolicySchema },
  PeerAuth: { apiVersion: WEFT_API_VERSION, schema: PeerAuthSchema },
  BackendPolicy: { apiVersion: WEFT_API_VERSION, schema: BackendPolicySchema },
  AuthorizationPolicy: { apiVersion: WEFT_API_VERSION, schema: AuthorizationPolicySchema },
  FaultPolicy: { apiVersion: WEFT_API_VERSION, schema: FaultPolicySchema },
  RateLimitPolicy: { apiVersion: WEFT_API_VERSION, schema: RateLimitPolicySchema },
};

export const CONFIG_KINDS = Object.keys(KINDS) as ConfigKind[];

function isKind(kind: unknown): kind is ConfigKind {
  return typeof kind === 'string' && Object.hasOwn(KINDS, kind);
}

/** Validates one untrusted document. Never throws; every problem names its field. */
export function parseObject(raw: unknown): ParseResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, problems: [{ field: '(root)', reason: 'must be an object with apiVersion and kind' }] };
  }
  const { apiVersion, kind } = raw as { apiVersion?: unknown; kind?: unknown };
  if (!isKind(kind)) {
    const reason = kind === undefined ? 'is required' : `unsupported kind ${JSON.stringify(kind)}: expected one of ${CONFIG_KINDS.join(', ')}`;
    return { ok: false, problems: [{ field: 'kind', reason }] };
  }
  const entry = KINDS[kind];
  if (apiVersion !== entry.apiVersion) {
    return {
      ok: false,
      problems: [{ field: 'apiVersion', reason: `must be ${entry.apiVersion} for kind ${kind}, got ${JSON.stringify(apiVersion)}` }],
    };
  }
  const result = entry.schema.safeParse(raw);
  return result.success ? { ok: true, object: result.data } : { ok: false, problems: problemsFrom(result.error) };
}

/** `Kind namespace/name`: identity of a config object across sources and edits. */
export function objectId(o: { kind: string; metadata: { namespace?: string; name: string } }): string {
  return `${o.kind} ${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
}
