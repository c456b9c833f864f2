// `weft controller`: the Kubernetes operator. Watches Weft CRs, Services, EndpointSlices,
// Pods and Namespaces, serves xDS, and (while leader) writes CR status.
import { isIP } from 'node:net';
import { parseHostPort } from '../../base/host-port.ts';
import { caRotationExtension, loadControllerCa, secureXds } from '../controller/ca-wiring.ts';
import type { XdsSecurity } from '../xds-security.ts';
import type { WebhookConfigurationRef } from '../controller/cabundle.ts';
import { startController, type Controller, type ControllerExtension, type ControllerOptions } from '../controller/run.ts';
import { loadInjectValues, webhookWiring, type WebhookWiring } from '../controller/webhook-wiring.ts';
import { KubeClient, loadKubeConfig } from '../../k8s/client.ts';
import { log } from '../../base/log.ts';
import { MeshPorts } from '../../base/mesh-ports.ts';
import { hostOf, isLoopbackHost } from '../../../xds/server/start.ts';
import { xdsServiceDnsNames } from '../../../xds/server/tls.ts';
import { controllerCommand, type ControllerFlags } from './controller-flags.ts';
import { parseOrReport } from './flags.ts';
import { listenerTimeoutsFrom, xdsLimitsFrom } from './xds-limit-flags.ts';
import { scrapeSettingsFrom } from './mesh-view-flags.ts';
import { certificatesOf } from '../xds-security.ts';
import { waitForShutdown } from './shutdown.ts';
import { errorMessage } from '../../base/errors.ts';
import type { EgressSpec } from '../../api/egress.ts';

/** What the flags (and the chart's environment) ask for, before anything touches the network. */
interface Settings {
  readonly base: Omit<ControllerOptions, 'xdsAddress'>;
  readonly kubeconfig: string | undefined;
  readonly namespace: string;
  readonly xdsAddress: string;
  readonly xdsPlaintext: boolean;
  readonly ca: {
    readonly secretName: string;
    readonly create: boolean;
    readonly trustDomain: string;
    readonly workloadCertTtlMs?: number;
    readonly rotationSoakMs?: number;
  };
  readonly egressDefault?: EgressSpec;
  readonly webhook?: {
    readonly host: string;
    readonly port: number;
    readonly serviceName: string;
    readonly injectValuesFile?: string;
    readonly configurations: readonly WebhookConfigurationRef[];
    readonly caBundleIntervalMs: number;
  };
}

/** The settings the (already validated) flags and the chart's environment ask for. */
function settingsFrom(values: ControllerFlags): Settings {
  const maxBackoff = values['informer-max-backoff'];
  const namespace = values.namespace;
  const plaintext = values['xds-plaintext'];
  const xdsAddress = values['xds-address'] ?? (plaintext ? `127.0.0.1:${MeshPorts.xdsPlaintext}` : `0.0.0.0:${MeshPorts.xdsTls}`);
  const ttlMs = values['workload-cert-ttl'];
  const webhookAddress = values['webhook-address'];
  const webhookListen = webhookAddress === 'off' ? undefined : parseHostPort(webhookAddress, { allowPortZero: true });
  const configurations: WebhookConfigurationRef[] = [];
  const mutating = values['mutating-webhook-configuration'];
  const validating = values['validating-webhook-configuration'];
  if (mutating) configurations.push({ kind: 'mutating', name: mutating });
  if (validating) configurations.push({ kind: 'validating', name: validating });
  const injectValuesFile = values['inject-values'];
  return {
    kubeconfig: values.kubeconfig,
    namespace,
    xdsAddress,
    xdsPlaintext: plaintext,
    ...(values['egress-default'] !== undefined ? { egressDefault: values['egress-default'] } : {}),
    ca: {
      secretName: values['ca-secret'],
      create: values['ca-create'],
      trustDomain: values['trust-domain'],
      ...(ttlMs !== undefined ? { workloadCertTtlMs: ttlMs } : {}),
      ...(values['ca-rotation-soak'] !== undefined ? { rotationSoakMs: values['ca-rotation-soak'] } : {}),
    },
    ...(webhookListen?.ok
      ? {
          webhook: {
            host: webhookListen.host,
            port: webhookListen.port,
            serviceName: values['webhook-service'],
            ...(injectValuesFile ? { injectValuesFile } : {}),
            configurations,
            caBundleIntervalMs: values['cabundle-resync'],
          },
        }
      : {}),
    base: {
      ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
      ...(values['egress-default'] !== undefined ? { egressDefault: values['egress-default'] } : {}),
      namespace,
      monitoringAddress: values['monitoring-address'],
      ...(values['debug-address'] ? { debugAddress: values['debug-address'] } : {}),
      debugAuth: values['debug-auth'],
      meshView: { scrape: scrapeSettingsFrom(values) },
      ...(values['leader-identity'] ? { identity: values['leader-identity'] } : {}),
      leaderElection: {
        enabled: values['leader-elect'],
        ...(values['lease-name'] ? { leaseName: values['lease-name'] } : {}),
        leaseDurationMs: values['lease-duration'],
        renewDeadlineMs: values['renew-deadline'],
        retryPeriodMs: values['retry-period'],
      },
      informer: {
        stallTimeoutMs: values['watch-stall-timeout'],
        backoff: { initialMs: Math.min(500, maxBackoff), maxMs: maxBackoff },
      },
      statusResyncMs: values['status-resync'],
      replicaReports: { leaseDurationMs: values['report-lease-duration'] },
      xdsLimits: xdsLimitsFrom(values),
      xdsWorkers: values['xds-workers'],
      listenerTimeouts: listenerTimeoutsFrom(values),
      ...(values['discovery-selector'] ? { namespaceSelector: values['discovery-selector'] } : {}),
      log,
    },
  };
}

/** xDS serving certificate names: the address sidecars dial (from the injection values), the default Service, localhost. */
function xdsDnsNames(namespace: string, sidecarXdsAddress: string | undefined): string[] {
  const names = new Set([...xdsServiceDnsNames(namespace), 'localhost']);
  const host = sidecarXdsAddress === undefined ? undefined : hostOf(sidecarXdsAddress);
  if (host && isIP(host) === 0) names.add(host);
  return [...names].sort();
}

/** Loads the CA and builds TLS xDS and the webhook, as the settings ask; the options for startController. */
async function secureOptions(s: Settings): Promise<{ opts: ControllerOptions; webhook?: WebhookWiring }> {
  const opts: ControllerOptions = { ...s.base, xdsAddress: s.xdsAddress };
  if (s.xdsPlaintext && !s.webhook) {
    log.warn({ xdsAddress: s.xdsAddress }, 'xDS in plaintext without authentication and no webhook: development mode, no CA loaded');
    return { opts };
  }
  const client = new KubeClient(loadKubeConfig(s.kubeconfig), log);
  const ca = await loadControllerCa({ client, namespace: s.namespace, secretName: s.ca.secretName, create: s.ca.create, trustDomain: s.ca.trustDomain, log });
  const values = s.webhook
    ? await loadInjectValues(s.webhook.injectValuesFile, { namespace: s.namespace, trustBundlePem: ca.trustBundlePem, trustDomain: s.ca.trustDomain })
    : undefined;
  const extensions: ControllerExtension[] = [];
  const readiness: Record<string, () => boolean> = {};
  const debug: Record<string, () => unknown> = {};
  let result: Partial<ControllerOptions> = {};
  let security: XdsSecurity | undefined;
  if (!s.xdsPlaintext) {
    const sec = await secureXds({
      ca,
      client,
      dnsNames: xdsDnsNames(s.namespace, values?.xdsAddress),
      ...(s.ca.workloadCertTtlMs !== undefined ? { workloadCertTtlMs: s.ca.workloadCertTtlMs } : {}),
      ...(s.egressDefault !== undefined ? { egressDefault: s.egressDefault } : {}),
      log,
    });
    result = { xdsCredentials: sec.options.xdsCredentials, authenticate: sec.options.authenticate, secrets: sec.options.secrets };
    extensions.push(sec.options.extension);
    security = sec.security;
    debug.identity = () => sec.security.status();
    result = { ...result, meshView: { ...s.base.meshView, certificates: () => certificatesOf(sec.security.status()) } };
  } else {
    log.warn({ xdsAddress: s.xdsAddress }, 'xDS in plaintext without proxy authentication or SDS: development mode');
  }
  let webhook: WebhookWiring | undefined;
  if (s.webhook && values) {
    webhook = webhookWiring({
      host: s.webhook.host,
      port: s.webhook.port,
      ca,
      values,
      serviceName: s.webhook.serviceName,
      namespace: s.namespace,
      configurations: s.webhook.configurations,
      caBundleIntervalMs: s.webhook.caBundleIntervalMs,
      ...(s.base.listenerTimeouts ? { timeouts: s.base.listenerTimeouts } : {}),
      log,
    });
    extensions.push(webhook.extension);
    readiness.webhook = webhook.serving;
    debug.webhook = webhook.status;
  }
  if (security) {
    // Last: the webhook extension has started by then, so the rotation can swap its certificate.
    extensions.push(
      caRotationExtension({
        secret: { namespace: s.namespace, name: s.ca.secretName },
        trustDomain: s.ca.trustDomain,
        security,
        ...(webhook ? { webhook } : {}),
        ...(s.ca.rotationSoakMs !== undefined ? { soakMs: s.ca.rotationSoakMs } : {}),
      }),
    );
  }
  return { opts: { ...opts, ...result, extensions, readiness, debug }, ...(webhook ? { webhook } : {}) };
}

/** `weft controller` with its arguments (what tests and embedders call); the binary parses in weft.ts first. */
export async function runController(argv: string[]): Promise<number> {
  const flags = parseOrReport(controllerCommand, argv);
  return typeof flags === 'number' ? flags : controllerWith(flags);
}

/** Runs the operator until SIGINT/SIGTERM; the exit code. */
export async function controllerWith(flags: ControllerFlags): Promise<number> {
  const settings = settingsFrom(flags);
  const debugHost = hostOf(settings.base.debugAddress ?? settings.base.monitoringAddress ?? '127.0.0.1:0');
  if (settings.base.debugAuth !== 'kube' && !isLoopbackHost(debugHost)) {
    log.warn(
      { debugHost },
      '/debug/* and the mesh view are served on a non-loopback address without authentication: use --debug-auth=kube or --debug-address=127.0.0.1:PORT',
    );
  }
  const shutdown = new AbortController();
  const signalled = waitForShutdown(log).then(() => shutdown.abort());
  let controller: Controller;
  let webhook: WebhookWiring | undefined;
  try {
    const secured = await secureOptions(settings);
    webhook = secured.webhook;
    controller = await startController(secured.opts, shutdown.signal);
  } catch (err) {
    if (shutdown.signal.aborted) return 0; // asked to stop while waiting for informers
    process.stderr.write(`weft controller: ${errorMessage(err)}\n`);
    return 1;
  }
  // One machine-readable line so scripts and tests can find the ports that were bound.
  const webhookPort = webhook?.port();
  process.stdout.write(
    `${JSON.stringify({
      event: 'ready',
      xdsPort: controller.xdsPort,
      xdsTls: !settings.xdsPlaintext,
      monitoringPort: controller.monitoringPort,
      ...(controller.debugPort !== undefined ? { debugPort: controller.debugPort } : {}),
      ...(webhookPort !== undefined ? { webhookPort } : {}),
      identity: controller.context.identity,
    })}\n`,
  );
  await signalled;
  await controller.close();
  return 0;
}
