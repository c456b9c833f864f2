// The controller's RBAC for a test namespace: rendered from the Helm chart (helm template)
// when charts/weft exists, with cluster-scoped names made unique per namespace so parallel
// suites never share (or delete) each other's ClusterRoles. Only the RBAC kinds are kept.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { repoRoot, type ClusterEnv } from './kube.ts';
import { POLICY_KINDS } from '../../../src/api/objects.ts';
import { Resources } from '../../../src/k8s/resources.ts';

const policyPlurals = POLICY_KINDS.map((k) => Resources[k].plural);

const run = promisify(execFile);
const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

interface Doc {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  roleRef?: { apiGroup?: string; kind?: string; name?: string };
  subjects?: { kind?: string; name?: string; namespace?: string }[];
}

/** RBAC documents from the chart, or undefined when the chart is not there yet. */
export async function chartRbac(env: ClusterEnv, namespace: string, helmArgs: readonly string[] = []): Promise<Doc[] | undefined> {
  const chart = join(repoRoot, 'charts/weft');
  if (!existsSync(join(chart, 'Chart.yaml'))) return undefined;
  const { stdout } = await run(env.helm, ['template', 'weft', chart, '--namespace', namespace, ...helmArgs], { maxBuffer: 16 << 20 });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as Doc | null)
    .filter((d): d is Doc => d !== null && RBAC_KINDS.has(d.kind ?? ''));
}

/** Equivalent of the chart's RBAC, for when the chart has not landed. */
function fallbackRbac(namespace: string): Doc[] {
  const weftGroup = 'mesh.weft.dev';
  return [
    { kind: 'ServiceAccount', metadata: { name: 'weft', namespace } },
    {
      kind: 'ClusterRole',
      metadata: { name: 'weft-controller' },
      rules: [
        { apiGroups: [''], resources: ['services', 'pods', 'namespaces'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [weftGroup], resources: policyPlurals, verbs: ['get', 'list', 'watch'] },
        { apiGroups: [weftGroup], resources: policyPlurals.map((p) => `${p}/status`), verbs: ['patch', 'update'] },
      ],
    } as Doc,
    {
      kind: 'ClusterRoleBinding',
      metadata: { name: 'weft-controller' },
      roleRef: { kind: 'ClusterRole', name: 'weft-controller' },
      subjects: [{ kind: 'ServiceAccount', name: 'weft', namespace }],
    },
    {
      kind: 'Role',
      metadata: { name: 'weft-leader-election', namespace },
      rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'] }],
    } as Doc,
    {
      kind: 'RoleBinding',
      metadata: { name: 'weft-leader-election', namespace },
      roleRef: { kind: 'Role', name: 'weft-leader-election' },
      subjects: [{ kind: 'ServiceAccount', name: 'weft', namespace }],
    },
  ];
}

/** YAML for kubectl apply: the chart's RBAC (or the fallback), cluster-scoped names suffixed with the namespace. */
export async function controllerRbacYaml(env: ClusterEnv, namespace: string, helmArgs: readonly string[] = []): Promise<{ yaml: string; fromChart: boolean }> {
  const fromChart = await chartRbac(env, namespace, helmArgs);
  const docs = fromChart ?? fallbackRbac(namespace);
  const clusterRoles = new Set(docs.filter((d) => d.kind === 'ClusterRole').map((d) => d.metadata?.name));
  const out = docs.map((d) => {
    const doc: Doc & Record<string, unknown> = structuredClone(d) as Doc & Record<string, unknown>;
    doc.apiVersion = doc.kind === 'ServiceAccount' ? 'v1' : 'rbac.authorization.k8s.io/v1';
    if (doc.kind === 'ClusterRole' || doc.kind === 'ClusterRoleBinding') doc.metadata = { ...doc.metadata, name: `${doc.metadata?.name}-${namespace}` };
    else doc.metadata = { ...doc.metadata, namespace };
    if (doc.roleRef?.kind === 'ClusterRole' && clusterRoles.has(doc.roleRef.name)) doc.roleRef = { ...doc.roleRef, name: `${doc.roleRef.name}-${namespace}` };
    if (doc.roleRef) doc.roleRef = { apiGroup: 'rbac.authorization.k8s.io', ...doc.roleRef };
    return stringify(doc);
  });
  return { yaml: out.join('---\n'), fromChart: fromChart !== undefined };
}
