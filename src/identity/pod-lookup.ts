// The controller's pod lookup for token verification: its pod informer's index, O(1) per
// call. Until the informers have synced a missing pod proves nothing, so the lookup fails
// ("try again") instead of answering "no such pod". It also tells the Pod's egress scope
// (its weft.dev/egress annotation, else its Namespace's, else the controller's default).
import { decideEgress, EGRESS_ANNOTATION, type EgressProblem, type EgressSpec } from '../api/egress.ts';
import type { ClusterIndex } from '../k8s/cluster-index.ts';
import type { PodLookup } from './token.ts';

export interface PodLookupOptions {
  /** The controller's --egress-default: the scope of Pods whose Pod and Namespace say nothing. */
  readonly egressDefault?: EgressSpec;
  /** An invalid annotation (the proxy is then unscoped); called once per distinct value. */
  readonly onEgressProblem?: (problem: EgressProblem & { readonly namespace: string; readonly pod: string }) => void;
}

/** How many distinct bad values are remembered (not reported twice) before forgetting them all. */
const REPORTED_MAX = 1000;

export function podLookupFromIndex(
  index: Pick<ClusterIndex, 'synced' | 'pod'> & Partial<Pick<ClusterIndex, 'namespace'>>,
  opts: PodLookupOptions = {},
): PodLookup {
  const reported = new Set<string>();
  return (namespace, name) => {
    const pod = index.pod(namespace, name);
    if (pod !== undefined) {
      const { decision, problem } = decideEgress({
        namespace,
        ...optional('pod', pod.annotations[EGRESS_ANNOTATION]),
        ...optional('namespaceValue', index.namespace?.(namespace)?.annotations[EGRESS_ANNOTATION]),
        ...(opts.egressDefault !== undefined ? { meshDefault: opts.egressDefault } : {}),
      });
      if (problem !== undefined && opts.onEgressProblem !== undefined) {
        const key = `${problem.where}|${namespace}|${problem.where === 'pod' ? name : ''}|${problem.value}`;
        if (!reported.has(key)) {
          if (reported.size >= REPORTED_MAX) reported.clear();
          reported.add(key);
          opts.onEgressProblem({ ...problem, namespace, pod: name });
        }
      }
      return { uid: pod.uid, serviceAccount: pod.serviceAccount, labels: pod.labels, egress: decision };
    }
    if (!index.synced) throw new Error('pod informer not synced yet');
    return undefined;
  };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
