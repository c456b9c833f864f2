// `weftctl config POD|PROXY-ID [SECTION]`: checks the Pod (exists, has a sidecar) with the
// user's kubeconfig, then asks every replica for its proxy's config (/debug/proxy-config); the
// replica it is connected to answers, the others say 404.
import { HttpMethod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { errorMessage } from '../../base/errors.ts';
import { KubeApiError, KubeClient, loadKubeConfig } from '../../k8s/client.ts';
import { SIDECAR_STATUS_ANNOTATION } from '../../model/build.ts';
import { INJECT_LABEL, INJECT_LABEL_VALUE } from '../../../webhook/values.ts';
import { configData, formatProxyConfig, type ConfigSection, type ServedConfig } from '../proxy-config-format.ts';
import type { ConfigFlags } from './config-flags.ts';
import { askAll, CliFailure, openDebugApi } from './debug-client.ts';
import { processIo, type CliIo } from './flags.ts';
import { contextNamespace, debugApiOptions } from './status.ts';

type PodCheck = 'sidecar' | 'not-found' | 'unknown';

/** What the API server says of the Pod: it has a sidecar, does not exist, or cannot be read (then the controller is asked anyway). */
async function checkPod(flags: ConfigFlags, namespace: string, name: string): Promise<PodCheck> {
  let client: KubeClient;
  try {
    client = new KubeClient(loadKubeConfig(flags.kubeconfig));
  } catch {
    return 'unknown'; // --debug-url without a kubeconfig
  }
  let pod: { metadata?: { annotations?: Record<string, string> } };
  try {
    pod = await client.request(HttpMethod.GET, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`, { timeoutMs: 15_000 });
  } catch (err) {
    if (err instanceof KubeApiError && err.statusCode === 404) return 'not-found';
    if (err instanceof KubeApiError && (err.statusCode === 403 || err.statusCode === 401)) return 'unknown';
    if (flags['debug-url'].length > 0) return 'unknown';
    throw new CliFailure(`cannot read pod ${namespace}/${name} (${errorMessage(err)}); check --kubeconfig and that the API server is reachable`);
  }
  if (pod.metadata?.annotations?.[SIDECAR_STATUS_ANNOTATION] === undefined)
    throw new CliFailure(
      `pod ${namespace}/${name} has no Weft sidecar: label its namespace (kubectl label namespace ${namespace} ${INJECT_LABEL}=${INJECT_LABEL_VALUE}) and restart it (kubectl -n ${namespace} rollout restart deployment/<its deployment>)`,
    );
  return 'sidecar';
}

async function served(api: Awaited<ReturnType<typeof openDebugApi>>, query: string): Promise<ServedConfig | undefined> {
  const answers = await askAll(api, `/debug/proxy-config?${query}`);
  const hit = answers.find((a) => a.answer.status === 200);
  return hit === undefined ? undefined : { ...(hit.answer.body as Omit<ServedConfig, 'replica'>), replica: hit.replica };
}

export async function configWith(name: string, section: ConfigSection | undefined, flags: ConfigFlags, io: CliIo = processIo): Promise<number> {
  const namespace = flags.namespace ?? contextNamespace(flags.kubeconfig);
  let config: ServedConfig | undefined;
  try {
    const pod = await checkPod(flags, namespace, name);
    const byPod = new URLSearchParams({ namespace, pod: name }).toString();
    const byId = new URLSearchParams({ id: name }).toString();
    const api = await openDebugApi(debugApiOptions(flags));
    try {
      config = pod === 'not-found' ? await served(api, byId) : ((await served(api, byPod)) ?? (pod === 'unknown' ? await served(api, byId) : undefined));
    } finally {
      await api.close();
    }
    if (config === undefined) {
      throw new CliFailure(
        pod === 'not-found'
          ? `no pod ${namespace}/${name} and no connected proxy with id ${name}: check the name and -n (weftctl status -n ${namespace} lists the connected proxies)`
          : `the proxy of pod ${namespace}/${name} is not connected to any controller replica: check its sidecar (kubectl -n ${namespace} logs ${name} -c weft-proxy) and weftctl status -n ${namespace}`,
      );
    }
  } catch (err) {
    if (!(err instanceof CliFailure)) throw err;
    io.stderr(`weftctl config: ${err.message}\n`);
    return 1;
  }
  if (flags.output === 'json') io.stdout(`${JSON.stringify(configData(config, section), null, 2)}\n`);
  else if (flags.output === 'yaml') io.stdout(stringify(configData(config, section)));
  else io.stdout(formatProxyConfig(config, section));
  return 0;
}
