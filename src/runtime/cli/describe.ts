// `weftctl describe pod POD`: read the Pod and the mesh, describe (src/runtime/pod-description.ts).
import { HttpMethod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { spiffeId } from '../../ca/spiffe.ts';
import { errorMessage } from '../../base/errors.ts';
import { KubeApiError, KubeClient, loadKubeConfig } from '../../k8s/client.ts';
import { buildModel, SIDECAR_STATUS_ANNOTATION, workloadFacts } from '../../model/build.ts';
import { describePod, formatPodDescription } from '../pod-description.ts';
import { readCluster } from './cluster-read.ts';
import type { DescribeFlags } from './describe-flags.ts';
import { processIo, type CliIo } from './flags.ts';
import { decideEgress, EGRESS_ANNOTATION, type EgressDecision } from '../../api/egress.ts';

interface RawPod {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { serviceAccountName?: string };
}

export async function describeWith(name: string, flags: DescribeFlags, io: CliIo = processIo): Promise<number> {
  let client: KubeClient;
  let namespace: string;
  try {
    const kc = loadKubeConfig(flags.kubeconfig);
    namespace = flags.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
    client = new KubeClient(kc);
  } catch (err) {
    io.stderr(`weftctl describe: ${errorMessage(err)}; check --kubeconfig\n`);
    return 2;
  }
  let pod: RawPod;
  try {
    pod = await client.request<RawPod>(HttpMethod.GET, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`);
  } catch (err) {
    const why =
      err instanceof KubeApiError && err.statusCode === 404
        ? `pod ${namespace}/${name} not found; check the name and -n (kubectl get pods -n ${namespace})`
        : err instanceof KubeApiError && err.statusCode === 403
          ? `you may not read pod ${namespace}/${name}; ask for get on pods in ${namespace}`
          : `cannot read pod ${namespace}/${name}: ${errorMessage(err)}; check --kubeconfig and that the API server is reachable`;
    io.stderr(`weftctl describe: ${why}\n`);
    return 1;
  }
  // Splits and retries of every namespace shape outbound calls, and a mesh-wide PeerAuth lives in
  // Weft's namespace: read everything the user may, else the Pod's namespace, and say so.
  const cp = flags['control-plane-namespace'];
  let cluster = await readCluster(client, { controlPlaneNamespace: cp });
  if (cluster.skipped.length > 0) cluster = await readCluster(client, { namespace, controlPlaneNamespace: cp });
  const model = buildModel(cluster.objects, { controlPlaneNamespace: cp, workloads: (cluster.pods ?? []).map((p) => workloadFacts(p)) });
  const labels = pod.metadata?.labels ?? {};
  const egress = await egressOf(client, namespace, pod);
  const d = describePod(model, {
    namespace,
    name,
    labels,
    identity: spiffeId(flags['trust-domain'], namespace, pod.spec?.serviceAccountName ?? 'default'),
    sidecar: pod.metadata?.annotations?.[SIDECAR_STATUS_ANNOTATION] !== undefined,
    egress,
  });
  if (flags.output === 'json') io.stdout(`${JSON.stringify(d, null, 2)}\n`);
  else if (flags.output === 'yaml') io.stdout(stringify(d));
  else io.stdout(formatPodDescription(d));
  for (const s of cluster.skipped) io.stderr(`weftctl describe: skipped ${s}; the description covers what you may read\n`);
  return 0;
}

/** The scope the controller gives the Pod's sidecar: its annotation, else its Namespace's (if readable). */
async function egressOf(client: KubeClient, namespace: string, pod: RawPod): Promise<EgressDecision> {
  const own = pod.metadata?.annotations?.[EGRESS_ANNOTATION];
  let nsValue: string | undefined;
  if (own === undefined) {
    const ns = await client.request<RawPod>(HttpMethod.GET, `/api/v1/namespaces/${encodeURIComponent(namespace)}`).catch((): RawPod | undefined => undefined);
    nsValue = ns?.metadata?.annotations?.[EGRESS_ANNOTATION];
  }
  return decideEgress({ namespace, ...(own !== undefined ? { pod: own } : {}), ...(nsValue !== undefined ? { namespaceValue: nsValue } : {}) }).decision;
}
