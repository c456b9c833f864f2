// /validate for Weft CRs: what the CRD schema and CEL cannot say, decided by the same code
// that computes status. The candidate object replaces its stored version among the objects
// of its namespace (from the informers' cache, never the API server) and the model is built;
// the object's own conditions give the verdict:
//   - it fails zod (the CRD's twin) or Accepted=False for a reason other than a conflict
//     (e.g. a regular expression RE2 cannot run)        → denied, with the model's message;
//   - Accepted=False for a curable reason (Conflicted, ServiceNotFound, TargetNotFound) or
//     ResolvedRefs=False                                  → admitted with a warning, because
//     the other object may come later (a backend Service created after its TrafficSplit).
import { buildModel } from '../src/model/build.ts';
import { isPolicyKind, objectId, parseObject, type ConfigObject } from '../src/api/objects.ts';
import type { Condition } from '../src/model/types.ts';
import { CURABLE_REASONS } from '../src/model/conditions.ts';
import type { AdmissionRequest, ValidateResult, Validator } from './admission.ts';

export interface CrValidatorDeps {
  /** Valid config objects currently known in `namespace` (informer cache). */
  readonly objectsIn: (namespace: string) => readonly ConfigObject[];
  /** Whether `namespace` is part of this control plane's mesh (discovery selector). */
  readonly inScope: (namespace: string) => boolean;
  readonly controlPlaneNamespace: string;
}

export function crValidator(deps: CrValidatorDeps): Validator {
  return (req: AdmissionRequest): ValidateResult => {
    if (!isPolicyKind(req.kind.kind) || (req.operation !== 'CREATE' && req.operation !== 'UPDATE')) return { allowed: true };
    const parsed = parseObject(withNamespace(req.object, req.namespace));
    if (!parsed.ok) {
      const problems = parsed.problems.slice(0, 5).map((p) => `${p.field}: ${p.reason}`);
      return { allowed: false, message: `weft: ${req.kind.kind} ${req.name ?? ''} is invalid: ${problems.join('; ')}` };
    }
    const candidate = parsed.object;
    const ns = candidate.metadata.namespace ?? 'default';
    const id = objectId(candidate);
    const others = deps.objectsIn(ns).filter((o) => objectId(o) !== id);
    const model = buildModel([...others, candidate], { controlPlaneNamespace: deps.controlPlaneNamespace });
    const status = model.statuses.find((s) => s.kind === candidate.kind && s.key === `${ns}/${candidate.metadata.name}`);
    const conditions: readonly Condition[] = status?.conditions ?? [];
    const accepted = conditions.find((c) => c.type === 'Accepted');
    if (accepted?.status === 'False' && !CURABLE_REASONS.has(accepted.reason)) return { allowed: false, message: `weft: ${accepted.message}` };
    const warnings: string[] = [];
    // Outside the mesh's namespaces the cache holds no Services, so a missing one proves nothing.
    if (accepted?.status === 'False' && (accepted.reason === 'Conflicted' || deps.inScope(ns))) warnings.push(accepted.message);
    const refs = conditions.find((c) => c.type === 'ResolvedRefs');
    // A RetryPolicy's missing target is in both conditions: warn once.
    if (refs?.status === 'False' && deps.inScope(ns) && refs.reason !== accepted?.reason) warnings.push(refs.message);
    return warnings.length ? { allowed: true, warnings: warnings.map((w) => `weft: ${w}`) } : { allowed: true };
  };
}

/** The API server may omit metadata.namespace on CREATE; the request names it. */
function withNamespace(object: unknown, namespace: string | undefined): unknown {
  if (typeof object !== 'object' || object === null || namespace === undefined) return object;
  const o = object as { metadata?: Record<string, unknown> };
  return { ...o, metadata: { ...o.metadata, namespace: o.metadata?.namespace ?? namespace } };
}
