// Pods and Namespaces as the rest of the control plane needs them, validated at the
// boundary and reduced to the fields Weft reads (a Pod's full spec is never kept):
// namespace labels for the injection webhook's cache, pod labels, UIDs and service
// accounts for proxy authentication. Read-only for consumers; the KubeSource fills it.
import { z } from 'zod';
import type { SupervisedInformer } from './informer.ts';
import { EGRESS_ANNOTATION } from '../api/egress.ts';

const labels = z.record(z.string(), z.string()).optional().catch(undefined);

const NamespaceSchema = z.object({
  metadata: z.object({ name: z.string(), uid: z.string().optional(), labels, annotations: labels }),
  status: z.object({ phase: z.string().optional() }).optional().catch(undefined),
});

const PodSchema = z.object({
  metadata: z.object({
    name: z.string(),
    namespace: z.string(),
    uid: z.string(),
    labels,
    annotations: labels,
  }),
  spec: z.object({ serviceAccountName: z.string().optional(), nodeName: z.string().optional() }).optional().catch(undefined),
  status: z
    .object({ phase: z.string().optional(), podIP: z.string().optional(), podIPs: z.array(z.object({ ip: z.string() })).optional() })
    .optional()
    .catch(undefined),
});

export interface NamespaceInfo {
  readonly name: string;
  readonly uid?: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Only the annotations Weft reads (weft.dev/egress), so the index stays small. */
  readonly annotations: Readonly<Record<string, string>>;
  readonly terminating: boolean;
}

export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  readonly nodeName?: string;
  readonly phase?: string;
  readonly ips: readonly string[];
}

/** Informer transforms: an object that fails validation is kept out of the index (undefined). */
export function toNamespace(raw: unknown): NamespaceInfo | undefined {
  const r = NamespaceSchema.safeParse(raw);
  if (!r.success) return undefined;
  const { metadata, status } = r.data;
  return {
    name: metadata.name,
    ...(metadata.uid !== undefined ? { uid: metadata.uid } : {}),
    labels: metadata.labels ?? {},
    annotations: weftAnnotations(metadata.annotations),
    terminating: status?.phase === 'Terminating',
  };
}

function weftAnnotations(all: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> {
  const value = all?.[EGRESS_ANNOTATION];
  return value === undefined ? {} : { [EGRESS_ANNOTATION]: value };
}

export function toPod(raw: unknown): PodInfo | undefined {
  const r = PodSchema.safeParse(raw);
  if (!r.success) return undefined;
  const { metadata, spec, status } = r.data;
  const ips = status?.podIPs?.map((p) => p.ip) ?? (status?.podIP ? [status.podIP] : []);
  return {
    namespace: metadata.namespace,
    name: metadata.name,
    uid: metadata.uid,
    labels: metadata.labels ?? {},
    annotations: metadata.annotations ?? {},
    serviceAccount: spec?.serviceAccountName ?? 'default',
    ...(spec?.nodeName !== undefined ? { nodeName: spec.nodeName } : {}),
    ...(status?.phase !== undefined ? { phase: status.phase } : {}),
    ips,
  };
}

/** Read-only view over the Pod and Namespace informers. */
export class ClusterIndex {
  readonly #pods: SupervisedInformer<PodInfo | undefined>;
  readonly #namespaces: SupervisedInformer<NamespaceInfo | undefined>;

  constructor(pods: SupervisedInformer<PodInfo | undefined>, namespaces: SupervisedInformer<NamespaceInfo | undefined>) {
    this.#pods = pods;
    this.#namespaces = namespaces;
  }

  get synced(): boolean {
    return this.#pods.synced && this.#namespaces.synced;
  }

  namespace(name: string): NamespaceInfo | undefined {
    return this.#namespaces.get(undefined, name);
  }

  /** Labels of a namespace; undefined when the namespace is unknown. */
  namespaceLabels(name: string): Readonly<Record<string, string>> | undefined {
    return this.namespace(name)?.labels;
  }

  pod(namespace: string, name: string): PodInfo | undefined {
    return this.#pods.get(namespace, name);
  }

  /** The pod with this UID, if it still exists (a token bound to a deleted pod finds none). */
  podByUid(uid: string): PodInfo | undefined {
    for (const p of this.#pods.list()) if (p?.uid === uid) return p;
    return undefined;
  }

  pods(namespace?: string): PodInfo[] {
    return this.#pods.list().filter((p): p is PodInfo => p !== undefined && (namespace === undefined || p.namespace === namespace));
  }
}
