// The Kubernetes config source: supervised informers for the Weft CRs, Services and
// EndpointSlices (plus Pods and Namespaces, kept in a ClusterIndex for other components).
// Level-triggered: an informer event only marks the source dirty when an object's
// validated content changed; a debounced loop (100 ms holdoff, 500 ms max) then emits the
// WHOLE current state. The first state is emitted only after every informer has listed
// once, so the model never sees a half-filled cluster.
import { Counter, Histogram } from 'prom-client';
import { log as rootLog, type Logger } from '../base/log.ts';
import { metricsRegistry } from '../base/metrics.ts';
import type { Clock } from '../base/clock.ts';
import { Debouncer } from '../base/debounce.ts';
import { canonicalJson } from '../model/canonical.ts';
import { workloadFacts } from '../model/meshed.ts';
import type { WorkloadFacts } from '../model/types.ts';
import { ClusterIndex, toNamespace, toPod, type NamespaceInfo, type PodInfo } from '../k8s/cluster-index.ts';
import type { KubeClient } from '../k8s/client.ts';
import { SupervisedInformer, type InformerOptions, type InformerStatus } from '../k8s/informer.ts';
import { matchesSelector, type LabelSelector } from '../k8s/label-selector.ts';
import { Resources } from '../k8s/resources.ts';
import { configObjects, configProblems, configReloads } from './metrics.ts';
import { CONFIG_KINDS, isPolicyKind, objectId, parseObject, POLICY_KINDS, type ConfigKind, type ConfigObject, type ParseResult } from '../api/objects.ts';
import type { ConfigProblem, ConfigSource, ConfigState } from './source.ts';
import { toObservedStatus, type ObservedStatus } from '../api/observed-status.ts';
import { compareStrings } from '../base/order.ts';

export interface KubeSourceOptions {
  readonly client: KubeClient;
  readonly log?: Logger;
  /** Quiet period after the last change before emitting (default 100 ms). */
  readonly holdoffMs?: number;
  /** Upper bound a stream of changes can postpone an emit (default 500 ms). */
  readonly maxDelayMs?: number;
  /** Time for the debounce (default: the system clock, which vitest's fake timers drive). */
  readonly clock?: Clock;
  readonly informer?: Pick<InformerOptions<unknown>, 'stallTimeoutMs' | 'backoff' | 'watchTimeoutSeconds' | 'pageSize'>;
  /**
   * Discovery selector: only namespaces whose labels match are part of the mesh (their
   * Services, EndpointSlices and Weft CRs; nothing else is served or gets status). Lets
   * two control planes (canary upgrades, parallel test suites) share a cluster.
   */
  readonly namespaceSelector?: LabelSelector;
}

/** One config object as the informers hold it: validated, or the reasons it is not. */
export interface ConfigEntry {
  readonly kind: ConfigKind;
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly result: ParseResult;
  /** Canonical content minus resourceVersion/status: equal means nothing Weft reads changed. */
  readonly fingerprint: string;
  /** What the API server holds in status (Weft CRs only), for the status writer. */
  readonly status?: ObservedStatus;
}

/**
 * The Kubernetes source's state: the ConfigState contract plus what only Kubernetes knows,
 * the workloads (Pods) behind endpoints, for buildModel's `workloads` option.
 */
export interface KubeConfigState extends ConfigState {
  readonly workloads: readonly WorkloadFacts[];
}

function factsKey(p: PodInfo | undefined): string {
  return p === undefined ? '' : canonicalJson(workloadFacts(p));
}

export const reconciles = new Counter({
  name: 'weft_controller_reconcile_total',
  help: 'Whole-state rebuilds (model build + snapshot update) triggered by the Kubernetes source, by result.',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});
export const reconcileSeconds = new Histogram({
  name: 'weft_controller_reconcile_duration_seconds',
  help: 'Time to rebuild the model and snapshots from the whole Kubernetes state.',
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});

interface RawMeta {
  name?: unknown;
  namespace?: unknown;
  generation?: unknown;
  resourceVersion?: unknown;
}

export function toEntry(kind: ConfigKind, raw: Record<string, unknown>): ConfigEntry {
  const meta = (raw.metadata ?? {}) as RawMeta;
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : 'default';
  const name = typeof meta.name === 'string' ? meta.name : '';
  const result = parseObject(raw);
  const content = result.ok
    ? { ...result.object, metadata: { ...result.object.metadata, resourceVersion: undefined } }
    : { problems: result.problems, generation: meta.generation };
  return {
    kind,
    id: objectId({ kind, metadata: { namespace, name } }),
    namespace,
    name,
    ...(typeof meta.generation === 'number' ? { generation: meta.generation } : {}),
    ...(typeof meta.resourceVersion === 'string' ? { resourceVersion: meta.resourceVersion } : {}),
    result,
    fingerprint: canonicalJson(content),
    ...(isPolicyKind(kind) ? { status: toObservedStatus(raw.status) } : {}),
  };
}

function byId(a: { id: string }, b: { id: string }): number {
  return compareStrings(a.id, b.id);
}

export class KubeSource implements ConfigSource {
  readonly index: ClusterIndex;
  readonly #log: Logger;
  /** The one debounce between a change and the proxies (see src/base/debounce.ts). */
  readonly #debounce: Debouncer;
  readonly #selector: LabelSelector | undefined;
  readonly #config = new Map<ConfigKind, SupervisedInformer<ConfigEntry>>();
  readonly #all: SupervisedInformer<unknown>[] = [];
  #onChange: ((state: ConfigState) => void) | undefined;
  #stopped = false;
  #stopWaiters = new Set<(err: Error) => void>();
  #loggedProblems = new Set<string>();

  constructor(opts: KubeSourceOptions) {
    this.#log = (opts.log ?? rootLog).child({ component: 'kube-source' });
    this.#debounce = new Debouncer({ holdoffMs: opts.holdoffMs ?? 100, maxDelayMs: opts.maxDelayMs ?? 500, ...(opts.clock ? { clock: opts.clock } : {}) }, () =>
      this.#emit(),
    );
    this.#selector = opts.namespaceSelector && opts.namespaceSelector.length > 0 ? opts.namespaceSelector : undefined;
    const common = { client: opts.client, log: opts.log ?? rootLog, ...opts.informer };
    for (const kind of CONFIG_KINDS) {
      const inf = new SupervisedInformer<ConfigEntry>({
        ...common,
        resource: Resources[kind],
        transform: (raw) => toEntry(kind, raw),
        equals: (a, b) => a.fingerprint === b.fingerprint,
        onChange: () => this.#markDirty(),
      });
      this.#config.set(kind, inf);
      this.#all.push(inf as SupervisedInformer<unknown>);
    }
    // Pods matter to the model only through their facts (labels, sidecar): other updates
    // (status, IPs) refresh the index without a rebuild.
    const pods = new SupervisedInformer<PodInfo | undefined>({
      ...common,
      resource: Resources.Pod,
      transform: toPod,
      equals: (a, b) => factsKey(a) === factsKey(b),
      onChange: () => this.#markDirty(),
    });
    const namespaces = new SupervisedInformer<NamespaceInfo | undefined>({
      ...common,
      resource: Resources.Namespace,
      transform: toNamespace,
      // With a discovery selector, a namespace's labels decide what is in the mesh.
      ...(this.#selector ? { equals: (a, b) => canonicalJson(a?.labels) === canonicalJson(b?.labels), onChange: () => this.#markDirty() } : {}),
    });
    this.#all.push(pods as SupervisedInformer<unknown>, namespaces as SupervisedInformer<unknown>);
    this.index = new ClusterIndex(pods, namespaces);
  }

  /** True once every informer has completed its first list. */
  get synced(): boolean {
    return this.#all.every((i) => i.synced);
  }

  informers(): InformerStatus[] {
    return this.#all.map((i) => i.status());
  }

  /** Whether a namespace is part of the mesh (always, without a discovery selector). */
  inScope(namespace: string): boolean {
    if (this.#selector === undefined) return true;
    const labels = this.index.namespaceLabels(namespace);
    return labels !== undefined && matchesSelector(this.#selector, labels);
  }

  /** Current Weft CRs in scope, valid or not, with the status the API server holds for each. */
  policies(): ConfigEntry[] {
    const out: ConfigEntry[] = [];
    for (const kind of POLICY_KINDS) out.push(...(this.#config.get(kind)?.list() ?? []));
    return out.filter((e) => this.inScope(e.namespace)).sort(byId);
  }

  async start(onChange: (state: ConfigState) => void): Promise<void> {
    this.#onChange = onChange;
    for (const i of this.#all) i.start();
    const report = setInterval(() => this.#reportWaiting(), 10_000);
    try {
      await Promise.race([Promise.all(this.#all.map((i) => i.waitForSync())), new Promise<never>((_, reject) => this.#stopWaiters.add(reject))]);
    } finally {
      clearInterval(report);
    }
    if (this.#stopped) throw new Error('config source stopped before its informers synced');
    this.#log.info({ informers: this.#all.length }, 'all informers synced');
    this.#debounce.cancel(); // a change since the last informer synced is in this state already
    this.#emit();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#debounce.cancel();
    for (const reject of this.#stopWaiters) reject(new Error('config source stopped before its informers synced'));
    await Promise.all(this.#all.map((i) => i.stop()));
  }

  #reportWaiting(): void {
    const waiting = this.#all.filter((i) => !i.synced).map((i) => i.status());
    if (waiting.length === 0) return;
    const missing = waiting.filter((s) => s.lastError?.statusCode === 404).map((s) => s.resource);
    this.#log.warn(
      {
        waiting: waiting.map((s) => ({ resource: s.resource, statusCode: s.lastError?.statusCode, error: s.lastError?.message })),
        ...(missing.length ? { missingResources: missing, hint: 'install the Weft CRDs (crds/ or the Helm chart)' } : {}),
      },
      'waiting for informers to sync before the first build',
    );
  }

  #markDirty(): void {
    if (this.#stopped || !this.synced || this.#onChange === undefined) return;
    this.#debounce.trigger();
  }

  /** The whole current state, objects sorted by kind/namespace/name, workloads by namespace/name. */
  state(): KubeConfigState {
    const objects: ConfigObject[] = [];
    const problems: ConfigProblem[] = [];
    const entries = [...this.#config.values()]
      .flatMap((i) => i.list())
      .filter((e) => this.inScope(e.namespace))
      .sort(byId);
    for (const e of entries) {
      if (e.result.ok) objects.push(e.result.object);
      else for (const p of e.result.problems) problems.push({ source: e.id, field: p.field, reason: p.reason });
    }
    const workloads = this.index
      .pods()
      .filter((p) => this.inScope(p.namespace))
      .map((p) => workloadFacts(p))
      .sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name));
    return { objects, problems, workloads };
  }

  #emit(): void {
    if (this.#stopped) return;
    const state = this.state();
    configReloads.inc({ source: 'kubernetes', result: 'changed' });
    configProblems.set({ source: 'kubernetes' }, state.problems.length);
    for (const kind of CONFIG_KINDS) configObjects.set({ source: 'kubernetes', kind }, state.objects.filter((o) => o.kind === kind).length);
    this.#logNewProblems(state.problems);
    const end = reconcileSeconds.startTimer();
    try {
      this.#onChange?.(state);
      reconciles.inc({ result: 'ok' });
    } catch (err) {
      reconciles.inc({ result: 'error' });
      this.#log.error({ err }, 'config change handler threw');
    } finally {
      end();
    }
  }

  #logNewProblems(problems: readonly ConfigProblem[]): void {
    const current = new Set(problems.map((p) => canonicalJson(p)));
    for (const p of problems) {
      if (!this.#loggedProblems.has(canonicalJson(p))) this.#log.warn({ source: p.source, field: p.field, reason: p.reason }, 'config problem');
    }
    this.#loggedProblems = current;
  }
}
