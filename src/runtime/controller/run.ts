// `weft controller` without the CLI: Kubernetes source → control plane (model, snapshots,
// ADS, monitoring) → leader election → status writer, plus extension hooks for the parts
// other components add (webhook server, CA bootstrap, caBundle patching, xDS mTLS and
// proxy authentication).
import type { EgressSpec } from '../../api/egress.ts';
import type { XdsLimits } from '../../../xds/server/limits.ts';
import type { ListenerTimeouts } from '../../base/listener-timeouts.ts';
import os from 'node:os';
import type { ServerCredentials } from '@grpc/grpc-js';
import { KubeSource } from '../../sources/kube-source.ts';
import { startControlPlane, type ControlPlane } from '../control-plane.ts';
import { log as rootLog, type Logger } from '../../base/log.ts';
import type { ClusterIndex } from '../../k8s/cluster-index.ts';
import { KubeClient, loadKubeConfig } from '../../k8s/client.ts';
import type { InformerOptions } from '../../k8s/informer.ts';
import type { LabelSelector } from '../../k8s/label-selector.ts';
import type { Authenticate } from '../../identity/auth-hook.ts';
import type { SecretsProvider } from '../../../xds/secrets/generator.ts';
import { LeaderElector } from './leader.ts';
import { kubeAccess } from '../access/kube-access.ts';
import type { ControlPlaneOptions } from '../control-plane.ts';
import { StatusWriter } from './status-writer.ts';
import { LocalProgress } from './programmed.ts';
import { ReportPublisher } from './report-publisher.ts';
import { ReportWatcher } from './report-watcher.ts';
import { hostOf, isLoopbackHost } from '../../../xds/server/start.ts';

export interface LeaderElectionSettings {
  readonly enabled: boolean;
  readonly leaseName?: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
}

/** What an extension gets to work with. */
export interface ControllerContext {
  readonly client: KubeClient;
  readonly source: KubeSource;
  readonly index: ClusterIndex;
  readonly controlPlane: ControlPlane;
  /** undefined when leader election is disabled (this replica always leads). */
  readonly leader: LeaderElector | undefined;
  isLeader(): boolean;
  readonly namespace: string;
  readonly identity: string;
  /** The other replicas whose report Lease is live (their identities): who else serves proxies now. */
  livePeers(): readonly string[];
  readonly log: Logger;
}

/** A component started after the control plane is up (webhook server, CA, ...); closed first on shutdown. */
export type ControllerExtension = (ctx: ControllerContext) => Promise<{ close(): Promise<void> } | void>;

export interface ControllerOptions {
  readonly kubeconfig?: string;
  /** Control-plane namespace: the Lease lives here; PeerAuth here without selector is mesh-wide. */
  readonly namespace: string;
  readonly xdsAddress: string;
  readonly monitoringAddress?: string;
  /** A listener of its own for /debug/* and the mesh view (ControlPlaneOptions.debugAddress). */
  readonly debugAddress?: string;
  /** kube: /debug/* and the mesh view's API need a token that TokenReview and SubjectAccessReview accept (src/runtime/access/kube-access.ts). */
  readonly debugAuth?: 'none' | 'kube';
  readonly meshView?: ControlPlaneOptions['meshView'];
  readonly identity?: string;
  readonly leaderElection: LeaderElectionSettings;
  readonly informer?: Pick<InformerOptions<unknown>, 'stallTimeoutMs' | 'backoff' | 'watchTimeoutSeconds'>;
  /** Only namespaces whose labels match are part of this control plane's mesh. */
  readonly namespaceSelector?: LabelSelector;
  readonly statusResyncMs?: number;
  /**
   * This replica's report Lease (replica-report.ts): its lease duration (default 15 s) and the
   * Pod IP published in it (default $POD_IP). The leader counts the proxies of every replica
   * whose report is live.
   */
  readonly replicaReports?: { readonly leaseDurationMs?: number; readonly podIP?: string };
  /** TLS for the xDS server; plaintext is loopback-only. */
  readonly xdsCredentials?: ServerCredentials;
  /** Bounds on what one xDS client may cost (defaults: xds/server/limits.ts). */
  readonly xdsLimits?: Partial<XdsLimits>;
  /** --egress-default for proxies without a bound Pod (VMs, --xds-plaintext): their WEFT_EGRESS, else this. */
  readonly egressDefault?: EgressSpec;
  /** Handshake/request/idle bounds of every listener. */
  readonly listenerTimeouts?: ListenerTimeouts;
  /** xDS worker threads (xds/server/workers.ts). */
  readonly xdsWorkers?: number;
  /** Proxy authentication; gets the pod/namespace index (pod UIDs, service accounts). */
  readonly authenticate?: (index: ClusterIndex) => Authenticate;
  /** Per-identity SDS secrets in every snapshot (with a CA; see ControlPlaneOptions.secrets). */
  readonly secrets?: SecretsProvider;
  readonly extensions?: readonly ControllerExtension[];
  /** More /readyz checks (e.g. the webhook answers) and /debug views from the extensions' owners. */
  readonly readiness?: Readonly<Record<string, () => boolean>>;
  readonly debug?: Readonly<Record<string, () => unknown>>;
  readonly log?: Logger;
}

export interface Controller {
  readonly context: ControllerContext;
  readonly xdsPort: number;
  readonly monitoringPort?: number;
  /** The debug listener's port when --debug-address gave it one of its own. */
  readonly debugPort?: number;
  /** Graceful: stop writing status, release the lease, close extensions, informers and servers. */
  close(): Promise<void>;
}

export function defaultIdentity(): string {
  return process.env.POD_NAME || `${os.hostname()}_${process.pid}`;
}

/** Starts everything; resolves once informers synced and servers listen. Aborting `signal` cancels a start still waiting for sync. */
export async function startController(opts: ControllerOptions, signal?: AbortSignal): Promise<Controller> {
  const log = (opts.log ?? rootLog).child({ component: 'controller' });
  const identity = opts.identity ?? defaultIdentity();
  const client = new KubeClient(loadKubeConfig(opts.kubeconfig), opts.log ?? rootLog);
  const source = new KubeSource({
    client,
    log: opts.log ?? rootLog,
    ...(opts.informer ? { informer: opts.informer } : {}),
    ...(opts.namespaceSelector ? { namespaceSelector: opts.namespaceSelector } : {}),
  });
  const le = opts.leaderElection;
  const leader = le.enabled
    ? new LeaderElector({
        client,
        namespace: opts.namespace,
        identity,
        log: opts.log ?? rootLog,
        ...(le.leaseName ? { name: le.leaseName } : {}),
        ...(le.leaseDurationMs ? { leaseDurationMs: le.leaseDurationMs } : {}),
        ...(le.renewDeadlineMs ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
        ...(le.retryPeriodMs ? { retryPeriodMs: le.retryPeriodMs } : {}),
      })
    : undefined;
  const isLeader = (): boolean => leader?.isLeader() ?? true;
  const reports = new ReportWatcher({
    client,
    namespace: opts.namespace,
    identity,
    log: opts.log ?? rootLog,
    onChange: () => void late.writer?.trigger(),
    ...(opts.informer ? { informer: opts.informer } : {}),
  });
  // Built once the control plane is up; the watcher and the debug view reach them through here.
  const late: { writer?: StatusWriter; progress?: LocalProgress } = {};
  const startedAt = performance.now();
  reports.start();
  log.info({ server: client.server, namespace: opts.namespace, identity, leaderElection: le.enabled }, 'starting controller');
  leader?.start();

  const encodeLocal = (): unknown => {
    const r = late.progress?.report();
    return r && { ...r, resources: Object.fromEntries(r.resources) };
  };
  const onAbort = (): void => void source.stop();
  signal?.addEventListener('abort', onAbort, { once: true });
  let controlPlane: ControlPlane;
  try {
    controlPlane = await startControlPlane({
      source,
      xdsAddress: opts.xdsAddress,
      controlPlaneNamespace: opts.namespace,
      log: opts.log ?? rootLog,
      ...(opts.monitoringAddress ? { monitoringAddress: opts.monitoringAddress } : {}),
      ...(opts.debugAddress ? { debugAddress: opts.debugAddress } : {}),
      ...(opts.debugAuth === 'kube' ? { access: kubeAccess({ client, log: opts.log ?? rootLog }) } : {}),
      ...(opts.meshView ? { meshView: opts.meshView } : {}),
      ...(opts.xdsCredentials ? { xdsCredentials: opts.xdsCredentials } : {}),
      ...(opts.xdsLimits ? { xdsLimits: opts.xdsLimits } : {}),
      ...(opts.egressDefault ? { egressDefault: opts.egressDefault } : {}),
      ...(opts.listenerTimeouts ? { listenerTimeouts: opts.listenerTimeouts } : {}),
      ...(opts.xdsWorkers ? { xdsWorkers: opts.xdsWorkers } : {}),
      ...(opts.authenticate ? { authenticate: opts.authenticate(source.index) } : {}),
      ...(opts.secrets ? { secrets: opts.secrets } : {}),
      readiness: { informersSynced: () => source.synced, ...opts.readiness },
      debug: {
        informers: () => source.informers(),
        leader: () => ({ identity, enabled: le.enabled, leader: isLeader(), holder: leader?.holder() }),
        replicas: () => ({ identity, reports: reports.status(), local: encodeLocal() }),
        ...opts.debug,
      },
    });
  } catch (err) {
    await leader?.release();
    await Promise.all([source.stop(), reports.stop()]);
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }

  const proxies = {
    model: () => controlPlane.model(),
    streams: () => controlPlane.xds.streams.latest(),
    snapshotFor: (p: Parameters<typeof controlPlane.cache.snapshotFor>[0]) => controlPlane.cache.snapshotFor(p),
  };
  const progress = new LocalProgress(identity, proxies);
  late.progress = progress;
  const publisher = new ReportPublisher({
    client,
    namespace: opts.namespace,
    progress,
    leaseDurationMs: opts.replicaReports?.leaseDurationMs ?? 15_000,
    ...(process.env.POD_NAME && process.env.POD_UID ? { ownerPod: { name: process.env.POD_NAME, uid: process.env.POD_UID } } : {}),
    endpoint: {
      ...((opts.replicaReports?.podIP ?? process.env.POD_IP) ? { podIP: opts.replicaReports?.podIP ?? process.env.POD_IP } : {}),
      ...(controlPlane.monitoringPort !== undefined ? { monitoringPort: controlPlane.monitoringPort } : {}),
      // A loopback-only debug listener (the chart's default) is no use to anyone else.
      ...(controlPlane.debugPort !== undefined && opts.debugAddress && !isLoopbackHost(hostOf(opts.debugAddress)) ? { debugPort: controlPlane.debugPort } : {}),
      xdsPort: controlPlane.xdsPort,
    },
    log: opts.log ?? rootLog,
  });
  publisher.start();
  const collector = setInterval(() => void (isLeader() ? reports.collect() : undefined), 60_000);
  collector.unref();
  const writer = new StatusWriter({
    client,
    policies: () => source.policies(),
    proxies,
    progress,
    peers: () => reports.peers(),
    // Until the report Leases are listed, the peers' proxies would be missing from the counts;
    // without RBAC to list them (an older Role), fall back to this replica's own after 30 s.
    peersSynced: () => reports.synced || performance.now() - startedAt > 30_000,
    isLeader,
    fieldManager: `weft-controller/${identity}`.slice(0, 128),
    log: opts.log ?? rootLog,
    ...(opts.statusResyncMs ? { resyncMs: opts.statusResyncMs } : {}),
  });
  late.writer = writer;
  controlPlane.onModel(() => void writer.trigger());
  leader?.on('started', () => writer.reset());
  leader?.on('stopped', () => writer.reset());
  writer.start();

  const livePeers = (): string[] => reports.status().flatMap((r) => (r.live && r.replica !== identity ? [r.replica] : []));
  const context: ControllerContext = {
    client,
    source,
    index: source.index,
    controlPlane,
    leader,
    isLeader,
    namespace: opts.namespace,
    identity,
    livePeers,
    log,
  };
  const closers: { close(): Promise<void> }[] = [];
  try {
    for (const ext of opts.extensions ?? []) {
      const c = await ext(context);
      if (c) closers.push(c);
    }
  } catch (err) {
    clearInterval(collector);
    await Promise.allSettled([...closers.map((c) => c.close()), writer.stop(), publisher.stop(), reports.stop(), leader?.release(), controlPlane.close()]);
    throw err;
  }

  return {
    context,
    xdsPort: controlPlane.xdsPort,
    ...(controlPlane.monitoringPort !== undefined ? { monitoringPort: controlPlane.monitoringPort } : {}),
    ...(controlPlane.debugPort !== undefined ? { debugPort: controlPlane.debugPort } : {}),
    async close() {
      clearInterval(collector);
      await writer.stop();
      await Promise.all([publisher.stop(), reports.stop()]);
      await leader?.release();
      await Promise.allSettled(closers.map((c) => c.close()));
      await controlPlane.close();
      log.info('controller stopped');
    },
  };
}
