// FaultPolicy → ResolvedFault. Header regular expressions must be RE2 (Envoy's engine);
// anything else keeps the policy out, so the webhook refuses it.
import type { FaultPolicyObject } from '../api/objects.ts';
import { regexProblem } from './regex.ts';
import { resolveTargeted } from './targeted.ts';
import type { MeshService, ObjectKey, PolicyStatus, ResolvedFault } from './types.ts';

function problems(fp: FaultPolicyObject): string[] {
  return fp.spec.headers.flatMap((h, i) => {
    const why = h.type === 'RegularExpression' ? regexProblem(h.value) : undefined;
    return why ? [`spec.headers[${i}].value: ${why}`] : [];
  });
}

function resolved(fp: FaultPolicyObject): ResolvedFault {
  const { delay, abort, headers } = fp.spec;
  return {
    policy: `${fp.metadata.namespace}/${fp.metadata.name}`,
    ...(delay ? { delay: { fixedDelayMs: delay.fixedDelay, percent: delay.percentage } } : {}),
    ...(abort
      ? {
          abort: {
            ...(abort.httpStatus === undefined ? {} : { httpStatus: abort.httpStatus }),
            ...(abort.grpcStatus === undefined ? {} : { grpcStatus: abort.grpcStatus }),
            percent: abort.percentage,
          },
        }
      : {}),
    headers: headers.map((h) => ({ name: h.name, type: h.type, value: h.value })),
  };
}

export function resolveFaults(
  policies: readonly FaultPolicyObject[],
  services: ReadonlyMap<ObjectKey, MeshService>,
): { applied: Map<ObjectKey, ResolvedFault>; statuses: PolicyStatus[] } {
  return resolveTargeted(policies, services, {
    effect: (target) => `injects faults into requests every meshed caller sends to Service ${target}`,
    problems,
    resolve: resolved,
  });
}
