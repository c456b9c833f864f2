// What `weftctl` reads from the API server with the user's kubeconfig: the config objects
// Weft resolves (every CONFIG_KIND), and the namespaces and Pods the workload checks need.
// Read-only, one LIST per resource; a resource the user may not list is skipped and said.
import { HttpMethod } from '@kubernetes/client-node';
import { CONFIG_KINDS, parseObject, type ConfigKind, type ConfigObject, type FieldProblem } from '../../api/objects.ts';
import type { NamespaceFacts, PodFacts } from '../../analyze/analyze.ts';
import { SIDECAR_STATUS_ANNOTATION } from '../../model/build.ts';
import { KubeApiError, KubeClient, loadKubeConfig } from '../../k8s/client.ts';
import { errorMessage } from '../../base/errors.ts';
import type { CliIo } from './flags.ts';
import { apiVersionOf, collectionPath, namespacedCollectionPath, Resources, type ResourceRef } from '../../k8s/resources.ts';
import { Annotations, INJECT_LABEL, INJECT_LABEL_VALUE, PROTECTED_NAMESPACES } from '../../../webhook/values.ts';

export type ClusterPod = PodFacts & { readonly serviceAccount: string };

export interface ClusterRead {
  readonly objects: ConfigObject[];
  /** Objects the API server holds that Weft would reject (an older CRD, a skipped webhook). */
  readonly invalid: { readonly object: string; readonly problems: readonly FieldProblem[] }[];
  readonly namespaces?: NamespaceFacts[];
  readonly pods?: ClusterPod[];
  /** Resources the user may not list: the checks that need them are skipped. */
  readonly skipped: string[];
}

export interface ReadScope {
  /** One namespace, or every namespace when undefined. */
  readonly namespace?: string;
  readonly controlPlaneNamespace: string;
}

interface RawObject {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
    readonly ownerReferences?: readonly { kind?: string; name?: string }[];
  };
  readonly spec?: { readonly hostNetwork?: boolean; readonly serviceAccountName?: string };
}

async function list(client: KubeClient, ref: ResourceRef, scope: ReadScope): Promise<RawObject[]> {
  const path = ref.namespaced && scope.namespace !== undefined ? namespacedCollectionPath(ref, scope.namespace) : collectionPath(ref);
  const body = await client.request<{ items?: RawObject[] }>(HttpMethod.GET, path);
  return body.items ?? [];
}

/** Forbidden or not served (a CRD not installed): skip what needs it; anything else is fatal. */
async function listOrSkip(client: KubeClient, ref: ResourceRef, scope: ReadScope, skipped: string[]): Promise<RawObject[] | undefined> {
  try {
    return await list(client, ref, scope);
  } catch (err) {
    if (err instanceof KubeApiError && (err.statusCode === 403 || err.statusCode === 404)) {
      skipped.push(`${ref.plural}${ref.group ? `.${ref.group}` : ''} (${err.statusCode === 403 ? 'forbidden' : 'not served'})`);
      return undefined;
    }
    throw err;
  }
}

async function getOrSkip(client: KubeClient, path: string, what: string, skipped: string[]): Promise<RawObject[] | undefined> {
  try {
    return [await client.request<RawObject>(HttpMethod.GET, path)];
  } catch (err) {
    if (err instanceof KubeApiError && (err.statusCode === 403 || err.statusCode === 404)) {
      skipped.push(`${what} (${err.statusCode === 403 ? 'forbidden' : 'not found'})`);
      return undefined;
    }
    throw err;
  }
}

function podFacts(raw: RawObject): ClusterPod {
  const meta = raw.metadata ?? {};
  const labels = meta.labels ?? {};
  const annotations = meta.annotations ?? {};
  const owner = meta.ownerReferences?.[0];
  return {
    namespace: meta.namespace ?? 'default',
    name: meta.name ?? '',
    labels,
    annotations,
    sidecar: annotations[SIDECAR_STATUS_ANNOTATION] !== undefined,
    exempt: annotations[Annotations.inject] === 'false' || labels[INJECT_LABEL] === 'false' || raw.spec?.hostNetwork === true,
    ...(owner?.kind && owner.name ? { owner: `${owner.kind}/${owner.name}` } : {}),
    serviceAccount: raw.spec?.serviceAccountName ?? 'default',
  };
}

export async function readCluster(client: KubeClient, scope: ReadScope): Promise<ClusterRead> {
  const skipped: string[] = [];
  const objects: ConfigObject[] = [];
  const invalid: ClusterRead['invalid'][number][] = [];
  for (const kind of CONFIG_KINDS) {
    const ref: ResourceRef | undefined = (Resources as Record<string, ResourceRef>)[kind as ConfigKind];
    if (!ref) continue;
    for (const raw of (await listOrSkip(client, ref, scope, skipped)) ?? []) {
      const parsed = parseObject({ ...raw, apiVersion: apiVersionOf(ref), kind: ref.kind });
      if (parsed.ok) objects.push(parsed.object);
      else invalid.push({ object: `${kind} ${raw.metadata?.namespace ?? ''}/${raw.metadata?.name ?? ''}`, problems: parsed.problems });
    }
  }
  const infrastructure = new Set<string>([...PROTECTED_NAMESPACES, scope.controlPlaneNamespace]);
  // One namespace: GET it (a namespace-scoped user may not list namespaces).
  const rawNamespaces =
    scope.namespace === undefined
      ? await listOrSkip(client, Resources.Namespace, scope, skipped)
      : await getOrSkip(client, `/api/v1/namespaces/${encodeURIComponent(scope.namespace)}`, 'namespaces', skipped);
  const rawPods = await listOrSkip(client, Resources.Pod, scope, skipped);
  if (!rawNamespaces || !rawPods) return { objects, invalid, skipped };
  const namespaces = rawNamespaces.map((n): NamespaceFacts => ({
    name: n.metadata?.name ?? '',
    meshed: n.metadata?.labels?.[INJECT_LABEL] === INJECT_LABEL_VALUE,
    infrastructure: infrastructure.has(n.metadata?.name ?? ''),
  }));
  return { objects, invalid, namespaces, pods: rawPods.map(podFacts), skipped };
}

export interface ClusterFlags {
  readonly kubeconfig?: string | undefined;
  readonly namespace?: string | undefined;
  readonly 'all-namespaces': boolean;
  readonly 'control-plane-namespace': string;
}

/**
 * Reads the cluster for a weftctl command: the namespace is -n, else the kubeconfig context's,
 * else `default`; -A reads every namespace (namespace undefined). Rejects with a message that
 * says what to check.
 */
export async function readClusterFor(flags: ClusterFlags): Promise<{ cluster: ClusterRead; namespace: string | undefined }> {
  const kc = loadKubeConfig(flags.kubeconfig);
  const namespace = flags['all-namespaces'] ? undefined : (flags.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default');
  const cluster = await readCluster(new KubeClient(kc), {
    ...(namespace === undefined ? {} : { namespace }),
    controlPlaneNamespace: flags['control-plane-namespace'],
  });
  return { cluster, namespace };
}

/**
 * The cluster as -n/-A/--local say, for a command that may also work on files alone: the
 * empty state with --local; the exit status 2 (after the one line saying what to check) when
 * the cluster cannot be read.
 */
export async function readClusterOrReport(
  command: string,
  flags: ClusterFlags & { readonly local: boolean; readonly filename: readonly string[] },
  io: CliIo,
): Promise<{ cluster: ClusterRead; namespace: string | undefined } | number> {
  const namespace = flags['all-namespaces'] ? undefined : flags.namespace;
  if (flags.local) return { cluster: { objects: [], invalid: [], skipped: [] }, namespace };
  try {
    return await readClusterFor(flags);
  } catch (err) {
    io.stderr(unreachable(command, err, flags.filename.length > 0));
    return 2;
  }
}

/** The one line (and hint) a weftctl command prints when the cluster cannot be read. */
export function unreachable(command: string, err: unknown, haveFiles: boolean): string {
  return `weftctl ${command}: cannot read the cluster: ${errorMessage(err)}\n  check --kubeconfig and that the API server is reachable${haveFiles ? ', or add --local to use the files alone' : ''}\n`;
}
