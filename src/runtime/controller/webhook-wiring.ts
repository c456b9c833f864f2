// The admission webhook inside `weft controller`: an HTTPS server (webhook/server.ts) with
// a serving certificate issued by the mesh CA for the webhook Service's DNS names and
// 127.0.0.1 (the out-of-cluster mode calls it by URL), renewed at about half its life and
// swapped in with setTls; injection reads namespace labels from the controller's cache;
// /validate builds the model around the candidate CR (validate-crs.ts); and the leader keeps
// both webhook configurations' caBundle equal to the CA's trust bundle (cabundle.ts).
//
// Every replica issues its own serving certificate from the shared CA rather than sharing
// one through a Secret: the caBundle (the CA's roots) trusts them all, and no key travels.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { CertificateAuthority } from '../../ca/authority.ts';
import { Rotation } from '../../base/rotation.ts';
import { systemClock, type Clock } from '../../base/clock.ts';
import type { Logger } from '../../base/log.ts';
import type { ListenerTimeouts } from '../../base/listener-timeouts.ts';
import { CLUSTER_DOMAIN } from '../../../xds/resources/names.ts';
import { startWebhookServer, type TlsMaterial, type WebhookServer } from '../../../webhook/server.ts';
import { parseInjectValues, type InjectValues } from '../../../webhook/values.ts';
import type { InjectContext } from '../../../webhook/inject.ts';
import { learnServerVersion, resolveSidecarShape } from '../../../webhook/sidecar-mode.ts';
import { CaBundleReconciler, type CaBundleStatus, type WebhookConfigurationRef } from './cabundle.ts';
import type { ControllerContext, ControllerExtension } from './run.ts';
import { crValidator } from '../../../webhook/validate-crs.ts';
import { errorMessage } from '../../base/errors.ts';

const DAY = 24 * 60 * 60_000;

/** The names a Service `name` in `namespace` answers to inside the cluster. */
export function serviceDnsNames(name: string, namespace: string): string[] {
  return [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.${CLUSTER_DOMAIN}`];
}

/**
 * Injection settings: the chart's values.json (optional) validated by parseInjectValues, with
 * the CA's trust bundle (the CA is the source of truth for it) and the control-plane
 * namespace filled in. Throws an Error naming every invalid field.
 */
export async function loadInjectValues(
  file: string | undefined,
  opts: { namespace: string; trustBundlePem: string; trustDomain?: string },
): Promise<InjectValues> {
  let input: Record<string, unknown> = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new Error(`--inject-values ${file}: ${errorMessage(err)}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new Error(`--inject-values ${file}: not JSON: ${errorMessage(err)}`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`--inject-values ${file}: must be a JSON object`);
    input = json as Record<string, unknown>;
  }
  const r = parseInjectValues({
    controlPlaneNamespace: opts.namespace,
    ...(opts.trustDomain ? { trustDomain: opts.trustDomain } : {}),
    ...input,
    trustBundlePem: opts.trustBundlePem,
  });
  if (!r.ok) throw new Error(`--inject-values ${file ?? '(defaults)'}: ${r.errors.join('; ')}`);
  return r.values;
}

export interface WebhookWiringOptions {
  readonly host: string;
  readonly port: number;
  readonly ca: CertificateAuthority;
  readonly values: InjectValues;
  /** The webhook Service (its in-cluster DNS names go into the serving certificate). */
  readonly serviceName: string;
  readonly namespace: string;
  /** IP SANs (default 127.0.0.1, for webhooks called by URL from the API server on this host). */
  readonly ipAddresses?: readonly string[];
  /** Serving certificate lifetime (default 7 days), renewed at about half of it. */
  readonly servingTtlMs?: number;
  /** The configurations whose caBundle the leader keeps current (none: not managed). */
  readonly configurations: readonly WebhookConfigurationRef[];
  readonly caBundleIntervalMs?: number;
  /** Handshake/request/idle bounds of the HTTPS listener. */
  readonly timeouts?: ListenerTimeouts;
  /** Time for the certificate rotation and the caBundle reconciler (default: the system clock). */
  readonly clock?: Clock;
  readonly log: Logger;
}

export interface WebhookWiring {
  readonly extension: ControllerExtension;
  /** The bound port once started. */
  port(): number | undefined;
  /** For /readyz: the webhook answers. */
  serving(): boolean;
  status(): { port?: number; serving?: { serial: string; notAfter: string; renewAt: string }; caBundle?: CaBundleStatus };
  /**
   * Root rotation: issue the serving certificate from `ca` (when its signing certificate
   * changed), keep the configurations' caBundle and the bundle injected into new sidecars'
   * bootstraps equal to `trustPem`. Idempotent.
   */
  setCa(ca: CertificateAuthority, trustPem: string): Promise<void>;
}

interface Issued {
  readonly tls: TlsMaterial;
  readonly serial: string;
  readonly notAfter: Date;
  /** Fingerprint of the CA certificate that signed it. */
  readonly signer: string;
}

export function webhookWiring(opts: WebhookWiringOptions): WebhookWiring {
  const log = opts.log.child({ component: 'webhook-wiring' });
  const dnsNames = serviceDnsNames(opts.serviceName, opts.namespace);
  const ipAddresses = opts.ipAddresses ?? ['127.0.0.1'];
  const ttlMs = opts.servingTtlMs ?? 7 * DAY;
  const clock = opts.clock ?? systemClock;
  let server: WebhookServer | undefined;
  let rotation: Rotation<Issued> | undefined;
  let reconciler: CaBundleReconciler | undefined;
  // Root rotation swaps both (setCa).
  let ca = opts.ca;
  let trustPem = opts.ca.trustBundlePem;

  const issue = async (): Promise<Issued> => {
    const signer = new X509Certificate(ca.certPem).fingerprint256;
    const r = await ca.issueServing({ dnsNames, ipAddresses, ttlMs, now: new Date(clock.now()) });
    if (!r.ok) throw new Error(`webhook serving certificate: ${r.reason}`);
    if (r.cert.keyPem === undefined) throw new Error('webhook serving certificate: no key');
    return { tls: { cert: r.cert.chainPem, key: r.cert.keyPem }, serial: new X509Certificate(r.cert.certPem).serialNumber, notAfter: r.cert.notAfter, signer };
  };

  const extension: ControllerExtension = async (ctx) => {
    const rot = new Rotation<Issued>({
      issue,
      notAfter: (c) => c.notAfter,
      // The first certificate is installed by startWebhookServer below; renewals swap it in.
      install: (next, previous) => {
        if (previous === undefined || !server) return;
        server.setTls(next.tls);
        log.info({ serial: next.serial, notAfter: next.notAfter.toISOString() }, 'webhook serving certificate rotated');
      },
      onError: (err, retryIn) => log.error({ err: errorMessage(err), retryIn }, 'webhook serving certificate renewal failed; the current one keeps serving'),
      clock,
      metricName: 'webhook-serving',
    });
    rotation = rot;
    const validate = crValidator({
      objectsIn: (ns) => ctx.source.state().objects.filter((o) => (o.metadata.namespace ?? 'default') === ns),
      inScope: (ns) => ctx.source.inScope(ns),
      controlPlaneNamespace: ctx.namespace,
    });
    const labelSource = namespaceLabelSource(ctx);
    const values = await withSidecarShape(opts.values, ctx, log);
    let current: Issued;
    try {
      current = await rot.rotate();
      server = await startWebhookServer({
        host: opts.host,
        port: opts.port,
        tls: current.tls,
        injectCtx: (ns) => injectContext(labelSource, trustPem === values.trustBundlePem ? values : { ...values, trustBundlePem: trustPem }, ns),
        validate,
        ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
      });
    } catch (err) {
      rot.stop(); // no renewals for a webhook that never served
      throw err;
    }
    log.info({ port: server.port, dnsNames, ipAddresses, serial: current.serial, notAfter: current.notAfter.toISOString() }, 'webhook serving');

    const onLeader = (): void => void reconciler?.trigger();
    if (opts.configurations.length > 0) {
      reconciler = new CaBundleReconciler({
        client: ctx.client,
        configurations: opts.configurations,
        bundlePem: () => trustPem,
        isLeader: ctx.isLeader,
        ...(opts.caBundleIntervalMs !== undefined ? { intervalMs: opts.caBundleIntervalMs } : {}),
        clock,
        log: ctx.log,
      });
      reconciler.start();
      ctx.leader?.on('started', onLeader);
    }

    return {
      close: async () => {
        rot.stop();
        ctx.leader?.off('started', onLeader);
        await reconciler?.stop();
        await server?.close();
        server = undefined;
      },
    };
  };

  return {
    extension,
    port: () => server?.port,
    serving: () => server !== undefined,
    async setCa(next, nextTrustPem) {
      ca = next;
      if (nextTrustPem !== trustPem) {
        trustPem = nextTrustPem;
        log.info({ roots: nextTrustPem.split('BEGIN CERTIFICATE').length - 1 }, 'webhook caBundle and injected trust bundle replaced');
        void reconciler?.trigger();
      }
      const signer = new X509Certificate(next.certPem).fingerprint256;
      if (rotation && rotation.current?.signer !== signer) await rotation.rotate();
    },
    status: () => ({
      ...(server ? { port: server.port } : {}),
      ...(rotation?.current && rotation.renewAt
        ? { serving: { serial: rotation.current.serial, notAfter: rotation.current.notAfter.toISOString(), renewAt: rotation.renewAt.toISOString() } }
        : {}),
      ...(reconciler ? { caBundle: reconciler.status() } : {}),
    }),
  };
}

/**
 * Resolves sidecarMode `auto` once, from the API server's version (GET /version, which every
 * client may read): native sidecars from 1.29, the plain container before that or when the
 * version cannot be read. An explicit `native` or `container` is kept as is.
 */
export async function withSidecarShape(values: InjectValues, ctx: Pick<ControllerContext, 'client'>, log: Logger): Promise<InjectValues> {
  const version =
    values.sidecarMode === 'auto'
      ? await learnServerVersion(() => ctx.client.request<unknown>('GET', '/version', { timeoutMs: 5_000 }), {
          onError: (err, attempt) => log.warn({ err: err.message, attempt }, 'reading the API server version failed'),
        })
      : undefined;
  const { shape, reason } = resolveSidecarShape(values.sidecarMode, version);
  log.info({ sidecarShape: shape, reason, ...(version ? { serverVersion: version.text } : {}) }, 'sidecar injection shape');
  return { ...values, sidecarMode: shape };
}

/** Where injection reads namespace labels: the informer cache, and the API server on a miss. */
export interface NamespaceLabelSource {
  cached(namespace: string): Readonly<Record<string, string>> | undefined;
  fetch(namespace: string): Promise<Readonly<Record<string, string>>>;
  readonly log: Logger;
}

export function namespaceLabelSource(ctx: ControllerContext): NamespaceLabelSource {
  return {
    cached: (ns) => ctx.index.namespaceLabels(ns),
    fetch: async (ns) => {
      const obj = await ctx.client.request<{ metadata?: { labels?: Record<string, string> } }>('GET', `/api/v1/namespaces/${encodeURIComponent(ns)}`, {
        timeoutMs: 2_000,
      });
      return obj.metadata?.labels ?? {};
    },
    log: ctx.log,
  };
}

/**
 * Namespace labels come from the informer cache. A namespace created moments before its first
 * pod may not be there yet; skipping injection then would silently admit an unmeshed pod, so
 * the rare miss reads the namespace from the API server once (bounded by a short timeout).
 */
export async function injectContext(src: NamespaceLabelSource, values: InjectValues, namespace: string): Promise<InjectContext> {
  const fromCache: InjectContext = { values, namespaceLabels: (ns) => src.cached(ns) };
  if (namespace === '' || src.cached(namespace) !== undefined) return fromCache;
  try {
    const labels = await src.fetch(namespace);
    src.log.info({ namespace }, 'namespace cache miss answered by the API server');
    return { values, namespaceLabels: (ns) => (ns === namespace ? labels : src.cached(ns)) };
  } catch (err) {
    src.log.warn({ namespace, err: errorMessage(err) }, 'namespace cache miss and API read failed');
    return fromCache;
  }
}
