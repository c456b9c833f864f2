// The one pipeline both `weft serve` and `weft controller` run:
// config source → validated model → snapshot cache (pure translation, plus each proxy's SDS
// secrets when a CA is configured) → ADS server. The generator is chosen here, once.
// Sources deliver whole states (levels, not events); every state rebuilds the model, and
// an unchanged model version is a no-op all the way down.
import type { EgressSpec } from '../api/egress.ts';
import type { ServerCredentials } from '@grpc/grpc-js';
import type { ConfigProblem, ConfigSource, ConfigState } from '../sources/source.ts';
import { log as rootLog, type Logger } from '../base/log.ts';
import { re2Available } from '../model/re2-native.ts';
import { buildModel } from '../model/build.ts';
import type { MeshModel } from '../model/types.ts';
import { startMonitoring, type RunningMonitoring } from './monitoring.ts';
import type { Authorizer } from './access/access.ts';
import type { CertificateInfo } from './meshview/graph.ts';
import { MeshViewSource, type ScrapeSettings } from './meshview/view.ts';
import { SnapshotCache } from '../../xds/snapshot/cache.ts';
import { startXdsServer, type RunningXdsServer } from '../../xds/server/start.ts';
import type { Authenticate } from '../identity/auth-hook.ts';
import { scopedDebugViews } from './debug-views.ts';
import type { XdsLimits } from '../../xds/server/limits.ts';
import type { ListenerTimeouts } from '../base/listener-timeouts.ts';
import { checkConsistency, translate } from '../../xds/translate/index.ts';
import { refreshOnRotate, withSecrets, type SecretsProvider } from '../../xds/secrets/generator.ts';

export interface ControlPlaneOptions {
  readonly source: ConfigSource;
  readonly xdsAddress: string;
  readonly xdsCredentials?: ServerCredentials;
  readonly authenticate?: Authenticate;
  /** Per-identity SDS secrets (a CA is configured): joined to translation, an identity's groups regenerated when it rotates. */
  readonly secrets?: SecretsProvider;
  /** host:port for /healthz, /readyz, /metrics, /debug/*; omit to not serve them. */
  readonly monitoringAddress?: string;
  /**
   * host:port of a listener of its own for /debug/* and the mesh view (e.g. loopback while
   * the monitoring address is not); unset: they share the monitoring listener.
   */
  readonly debugAddress?: string;
  /** Who may read /debug/* and the mesh view's API (default: whoever reaches the listener). */
  readonly access?: Authorizer;
  /** The mesh view's scraping bounds and the certificates whose expiry it shows. */
  readonly meshView?: { readonly scrape?: Partial<ScrapeSettings>; readonly certificates?: () => readonly CertificateInfo[] };
  readonly controlPlaneNamespace?: string;
  /** Extra readiness checks (e.g. informers synced) and debug views from the caller. */
  readonly readiness?: Readonly<Record<string, () => boolean>>;
  readonly debug?: Readonly<Record<string, () => unknown>>;
  /**
   * Holdoff of the xDS server's pushes. Default none: the source already debounced the change
   * (src/base/debounce.ts) before the model was rebuilt, so pushes go out at once (those of one
   * event-loop turn still coalesce). A second holdoff only added its latency: bench/xds.ts
   * --debounce-stages 2 measures it.
   */
  /** Bounds on what one xDS client may cost (defaults: xds/server/limits.ts). */
  readonly xdsLimits?: Partial<XdsLimits>;
  /** The egress scope of proxies whose node metadata has no WEFT_EGRESS (docs/scale.md). */
  readonly egressDefault?: EgressSpec;
  /** Handshake/request/idle bounds of the xDS and monitoring listeners. */
  readonly listenerTimeouts?: ListenerTimeouts;
  readonly pushDebounce?: { holdoffMs?: number; maxDelayMs?: number };
  /** xDS worker threads (xds/server/workers.ts; default 0: streams served on the main thread). */
  readonly xdsWorkers?: number;
  readonly log?: Logger;
}

export interface ControlPlane {
  readonly xdsPort: number;
  readonly monitoringPort?: number;
  /** The debug listener's port, when it is not the monitoring listener. */
  readonly debugPort?: number;
  readonly cache: SnapshotCache;
  readonly xds: RunningXdsServer;
  model(): MeshModel | undefined;
  problems(): readonly ConfigProblem[];
  /** Called after every model that changed (e.g. the status writer). */
  onModel(listener: (model: MeshModel) => void): () => void;
  close(): Promise<void>;
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = (opts.log ?? rootLog).child({ component: 'control-plane' });
  if (!re2Available())
    log.warn(
      'the RE2 addon is missing (scripts/install-re2.sh): regular expressions are judged by a JavaScript approximation, and one Envoy refuses can make a route configuration NACKed',
    );
  const secrets = opts.secrets;
  const generate = secrets ? withSecrets(translate, (identity) => secrets.secretsFor(identity)) : translate;
  const cache = new SnapshotCache({ generate, checkConsistency, log });
  const offRotate = secrets ? refreshOnRotate(cache, secrets) : undefined;
  const listeners = new Set<(m: MeshModel) => void>();
  let problems: readonly ConfigProblem[] = [];
  let synced = false;

  const apply = (state: ConfigState): void => {
    problems = state.problems;
    const model = buildModel(state.objects, {
      ...(opts.controlPlaneNamespace ? { controlPlaneNamespace: opts.controlPlaneNamespace } : {}),
      ...(state.workloads ? { workloads: state.workloads } : {}),
    });
    if (cache.model?.version === model.version) return;
    cache.setModel(model);
    log.info({ modelVersion: model.version, services: model.services.size, problems: problems.length }, 'model updated');
    for (const l of listeners) l(model);
  };

  const xds = await startXdsServer({
    address: opts.xdsAddress,
    cache,
    log: opts.log ?? rootLog,
    ...(opts.xdsCredentials ? { credentials: opts.xdsCredentials } : {}),
    ...(opts.authenticate ? { authenticate: opts.authenticate } : {}),
    debounce: { holdoffMs: 0, maxDelayMs: 0, ...opts.pushDebounce },
    ...(opts.xdsLimits ? { limits: opts.xdsLimits } : {}),
    ...(opts.egressDefault ? { nodeDefaults: { egressDefault: opts.egressDefault } } : {}),
    ...(opts.listenerTimeouts ? { timeouts: opts.listenerTimeouts } : {}),
    ...(opts.xdsWorkers ? { workers: opts.xdsWorkers } : {}),
  });
  let monitoring: RunningMonitoring | undefined;
  let debugListener: RunningMonitoring | undefined;
  const meshView = new MeshViewSource({
    streams: () => xds.streams.latest(),
    model: () => cache.model,
    ...(opts.meshView?.certificates ? { certificates: opts.meshView.certificates } : {}),
    ...(opts.meshView?.scrape ? { scrape: opts.meshView.scrape } : {}),
    log,
  });
  try {
    const debug = {
      config: () => ({
        modelVersion: cache.model?.version,
        services: [...(cache.model?.services.keys() ?? [])],
        statuses: cache.model?.statuses ?? [],
        problems,
      }),
      ...opts.debug,
    };
    const scopedDebug = scopedDebugViews(xds.streams);
    const common = { log, ...(opts.listenerTimeouts ? { timeouts: opts.listenerTimeouts } : {}), ...(opts.access ? { access: opts.access } : {}) };
    const separate = opts.debugAddress !== undefined && opts.debugAddress !== opts.monitoringAddress;
    if (opts.monitoringAddress) {
      monitoring = await startMonitoring({
        ...common,
        address: opts.monitoringAddress,
        readiness: { configSynced: () => synced, ...opts.readiness },
        ...(separate ? {} : { debug, scopedDebug, meshView }),
      });
    }
    if (separate && opts.debugAddress) debugListener = await startMonitoring({ ...common, address: opts.debugAddress, debug, scopedDebug, meshView });
    await opts.source.start(apply);
    synced = true;
  } catch (err) {
    offRotate?.();
    meshView.close();
    await Promise.allSettled([xds.close(), monitoring?.close(), debugListener?.close()]);
    throw err;
  }

  return {
    xdsPort: xds.port,
    ...(monitoring ? { monitoringPort: monitoring.port } : {}),
    ...(debugListener ? { debugPort: debugListener.port } : {}),
    cache,
    xds,
    model: () => cache.model,
    problems: () => problems,
    onModel(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      offRotate?.();
      meshView.close();
      await opts.source.stop();
      await Promise.allSettled([xds.close(), monitoring?.close(), debugListener?.close()]);
    },
  };
}
