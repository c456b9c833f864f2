import { HttpMethod } from '@kubernetes/client-node';
import type { PodLookup } from '../../src/identity/token.ts';
import { toPod } from '../../src/k8s/cluster-index.ts';
import { KubeApiError, type KubeClient } from '../../src/k8s/client.ts';

/**
 * A PodLookup that GETs the pod from the real API server (404: gone). The controller uses
 * its informer cache instead; tests use this to check tokens against the live state.
 */
export function apiPodLookup(client: () => KubeClient): PodLookup {
  return async (namespace, name) => {
    try {
      const pod = toPod(await client().request(HttpMethod.GET, `/api/v1/namespaces/${namespace}/pods/${name}`));
      return pod ? { uid: pod.uid, serviceAccount: pod.serviceAccount } : undefined;
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 404) return undefined;
      throw err;
    }
  };
}
