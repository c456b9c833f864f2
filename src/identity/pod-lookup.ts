// The controller's pod lookup for token verification: its pod informer's index, O(1) per
// call. Until the informers have synced a missing pod proves nothing, so the lookup fails
// ("try again") instead of answering "no such pod".
import type { ClusterIndex } from '../k8s/cluster-index.ts';
import type { PodLookup } from './token.ts';

export function podLookupFromIndex(index: Pick<ClusterIndex, 'synced' | 'pod'>): PodLookup {
  return (namespace, name) => {
    const pod = index.pod(namespace, name);
    if (pod !== undefined) return { uid: pod.uid, serviceAccount: pod.serviceAccount, labels: pod.labels };
    if (!index.synced) throw new Error('pod informer not synced yet');
    return undefined;
  };
}
