// TrafficSplit resolution: one split per root Service (oldest wins), the root Service must
// exist (else the split is not Accepted: there is nothing to split), every backend must
// exist in the split's namespace, and an unresolved split is not applied at all so the
// root Service keeps serving all traffic itself.
import type { TrafficSplitObject } from '../api/objects.ts';
import { accepted, condition, conflicted, groupByPrecedence, refsResolved, statusOf } from './conditions.ts';
import { byPrecedence } from './order.ts';
import { regexProblem } from './regex.ts';
import { percentages } from './summary.ts';
import { serviceKey } from './services.ts';
import type { Condition, MeshService, ObjectKey, PolicyStatus, ResolvedSplit } from './types.ts';

function matchProblems(ts: TrafficSplitObject): string[] {
  const out: string[] = [];
  ts.spec.matches.forEach((m, i) => {
    if (m.path?.type === 'RegularExpression') {
      const why = regexProblem(m.path.value);
      if (why) out.push(`spec.matches[${i}].path.value: ${why}`);
    }
    m.headers.forEach((h, j) => {
      const why = h.type === 'RegularExpression' ? regexProblem(h.value) : undefined;
      if (why) out.push(`spec.matches[${i}].headers[${j}].value: ${why}`);
    });
  });
  return out;
}

/** Weights that do not sum to 100 are relative: say what they come to (90/20 → 82/18). */
function normalisation(ts: TrafficSplitObject): string {
  const weights = ts.spec.backends.map((b) => b.weight);
  const total = weights.reduce((a, b) => a + b, 0);
  if (total === 100) return '';
  return `; weights ${weights.join('/')} sum to ${total}, not 100, and are normalised to ${percentages(weights).join('/')} percent (${ts.spec.backends.map((b) => b.service).join('/')})`;
}

function resolved(ts: TrafficSplitObject): ResolvedSplit {
  return {
    policy: `${ts.metadata.namespace}/${ts.metadata.name}`,
    backends: ts.spec.backends.filter((b) => b.weight > 0).map((b) => ({ service: b.service, weight: b.weight })),
    matches: ts.spec.matches.map((m) => ({
      ...(m.path ? { path: { type: m.path.type, value: m.path.value } } : {}),
      headers: m.headers.map((h) => ({ name: h.name, type: h.type, value: h.value })),
    })),
  };
}

export function resolveSplits(
  splits: readonly TrafficSplitObject[],
  services: ReadonlyMap<ObjectKey, MeshService>,
): { applied: Map<ObjectKey, ResolvedSplit>; statuses: PolicyStatus[] } {
  const applied = new Map<ObjectKey, ResolvedSplit>();
  const statuses: PolicyStatus[] = [];
  const groups = groupByPrecedence(splits, (ts) => serviceKey(ts.metadata.namespace, ts.spec.service), byPrecedence);
  for (const [root, group] of groups) {
    const [winner] = group;
    for (const ts of group) {
      const ns = ts.metadata.namespace;
      // ResolvedRefs is about the backends (as Gateway API's backendRefs); a missing root is Accepted's.
      const missing = ts.spec.backends.map((b) => b.service).filter((name, i, all) => all.indexOf(name) === i && !services.has(serviceKey(ns, name)));
      const refs: Condition = missing.length
        ? condition(
            'ResolvedRefs',
            false,
            'BackendNotFound',
            `Service ${missing.map((n) => `${ns}/${n}`).join(', ')} not found (backends must be in the TrafficSplit's namespace); the split is not applied and ${root} serves all traffic`,
          )
        : refsResolved(`All ${ts.spec.backends.length} backends of ${root} exist`);
      const invalid = matchProblems(ts);
      let acc: Condition;
      if (ts !== winner && winner) {
        acc = conflicted(`Service ${root} is already split by TrafficSplit ${ns}/${winner.metadata.name} (older, or first by name); this split is not applied`);
      } else if (invalid.length) {
        acc = condition('Accepted', false, 'UnsupportedValue', `${invalid.join('; ')}; the split is not applied`);
      } else if (!services.has(root as ObjectKey)) {
        acc = condition(
          'Accepted',
          false,
          'ServiceNotFound',
          `Service ${root} not found: there is nothing to split; the split is applied once the Service exists`,
        );
      } else {
        acc = accepted(`TrafficSplit applies to Service ${root}${normalisation(ts)}`);
        if (!missing.length) applied.set(root as ObjectKey, resolved(ts));
      }
      statuses.push(statusOf(ts, [acc, refs]));
    }
  }
  return { applied, statuses };
}
