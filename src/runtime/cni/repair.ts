// The race every CNI-mode mesh has: a Pod whose sandbox was created on this node before
// weft-cni was (a new node, the DaemonSet restarting) has no capture rules. Its
// weft-validation init container notices and exits VALIDATION_EXIT_CODE, so its app never
// starts and the Pod never becomes Ready; the kubelet would retry that container forever in
// the same uncaptured sandbox. Once weft-cni is installed, this deletes such Pods (with a UID
// precondition) so their owner recreates them, now with capture. A bare Pod is gone for good:
// docs/cni.md says to run meshed workloads under a controller.
import type { Logger } from '../../base/log.ts';
import { errorMessage } from '../../base/errors.ts';
import { CAPTURE_ANNOTATION } from '../../capture/annotation.ts';
import { VALIDATION_EXIT_CODE } from '../../capture/validate.ts';
import type { KubeClient } from '../../k8s/client.ts';
import { HttpMethod } from '@kubernetes/client-node';

const VALIDATION_CONTAINER = 'weft-validation';

interface Terminated {
  exitCode?: number;
}
interface ContainerStatus {
  name: string;
  state?: { terminated?: Terminated };
  lastState?: { terminated?: Terminated };
}
export interface RepairPod {
  metadata: { name: string; namespace: string; uid: string; annotations?: Record<string, string>; deletionTimestamp?: string };
  status?: { initContainerStatuses?: ContainerStatus[] };
}

/** A meshed Pod whose validation found no capture: it can only be fixed by a new sandbox. */
export function needsRepair(p: RepairPod): boolean {
  if (p.metadata.deletionTimestamp || p.metadata.annotations?.[CAPTURE_ANNOTATION] === undefined) return false;
  const s = p.status?.initContainerStatuses?.find((c) => c.name === VALIDATION_CONTAINER);
  return s?.state?.terminated?.exitCode === VALIDATION_EXIT_CODE || s?.lastState?.terminated?.exitCode === VALIDATION_EXIT_CODE;
}

/** One pass over this node's Pods; returns the ones deleted (namespace/name). */
export async function repairOnce(kube: KubeClient, nodeName: string, log: Logger): Promise<string[]> {
  const list = await kube.request<{ items: RepairPod[] }>(HttpMethod.GET, '/api/v1/pods', { query: { fieldSelector: `spec.nodeName=${nodeName}` } });
  const deleted: string[] = [];
  for (const p of list.items.filter(needsRepair)) {
    const id = `${p.metadata.namespace}/${p.metadata.name}`;
    try {
      await kube.request(HttpMethod.DELETE, `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`, {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: p.metadata.uid } },
      });
      deleted.push(id);
      log.warn({ pod: id }, 'deleted a meshed Pod that started before weft-cni was on this node (no traffic capture); its owner recreates it with capture');
    } catch (err) {
      log.warn({ pod: id, err: errorMessage(err) }, 'could not delete an uncaptured meshed Pod; retrying');
    }
  }
  return deleted;
}
