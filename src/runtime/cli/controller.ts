// `weft controller`: the Kubernetes operator. Watches Weft CRs, Services, EndpointSlices,
// Pods and Namespaces, serves xDS, and (while leader) writes CR status.
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { DEFAULT_TRUST_DOMAIN, isValidTrustDomain } from '../../ca/spiffe.ts';
import { ROOT_SECRET_NAME } from '../../ca/secret-store.ts';
import { parseDurationMs } from '../../api/duration.ts';
import { loadControllerCa, secureXds } from '../controller/ca-wiring.ts';
import type { WebhookConfigurationRef } from '../controller/cabundle.ts';
import { startController, type Controller, type ControllerExtension, type ControllerOptions } from '../controller/run.ts';
import { loadInjectValues, webhookWiring, type WebhookWiring } from '../controller/webhook-wiring.ts';
import { KubeClient, loadKubeConfig } from '../../k8s/client.ts';
import { parseLabelSelector } from '../../k8s/label-selector.ts';
import { log } from '../../base/log.ts';
import { MeshPorts } from '../../base/mesh-ports.ts';
import { hostOf } from '../../../xds/server/start.ts';
import { xdsServiceDnsNames } from '../../../xds/server/tls.ts';
import { waitForShutdown } from './shutdown.ts';

const usage = `usage: weft controller [flags]
  --kubeconfig FILE              credentials (default: in-cluster, then $KUBECONFIG / ~/.kube/config)
  --namespace NS                 control-plane namespace, home of the leader Lease (default weft-system)
  --xds-address HOST:PORT        ADS server (default 0.0.0.0:${MeshPorts.xdsTls} over TLS; 127.0.0.1:${MeshPorts.xdsPlaintext} with --xds-plaintext)
  --xds-plaintext                development only: ADS in plaintext, loopback only, no proxy authentication, no SDS
  --monitoring-address HOST:PORT /healthz /readyz /metrics /debug (default 127.0.0.1:${MeshPorts.monitoring})
  --leader-elect=true|false      only the Lease holder writes status (default true)
  --leader-identity ID           replica identity (default $POD_NAME, else hostname_pid)
  --lease-name NAME              (default weft-controller)
  --lease-duration 15s  --renew-deadline 10s  --retry-period 2s
  --watch-stall-timeout 5m       restart a watch that sent nothing (no event, no bookmark) this long
  --informer-max-backoff 10s     cap of the informer restart backoff
  --status-resync 1s             how often Programmed is re-evaluated
  --discovery-selector SELECTOR  only namespaces whose labels match (e.g. weft.dev/mesh=prod) are in the mesh

CA, identity and TLS (the CA is loaded unless both --xds-plaintext and --webhook-address=off):
  --ca-secret NAME               Secret in --namespace holding the CA (default weft-root-ca; env WEFT_CA_SECRET)
  --ca-create=true|false         generate the root when the Secret is absent (default true); false for a
                                 user-supplied root or intermediate (tls.crt + chain, tls.key, optional ca.crt)
  --trust-domain TD              SPIFFE trust domain (default cluster.local; env WEFT_TRUST_DOMAIN)
  --workload-cert-ttl 24h        lifetime of workload certificates served over SDS (renewed at about half)

Admission webhook (/inject, /validate):
  --webhook-address HOST:PORT    HTTPS listen address, or "off" (default 0.0.0.0:${MeshPorts.webhook}; env WEFT_WEBHOOK_ADDRESS)
  --webhook-service NAME         webhook Service, named in the serving certificate (default weft-webhook; env WEFT_WEBHOOK_SERVICE)
  --inject-values FILE           injection settings JSON (chart values.json; env WEFT_INJECT_VALUES); its
                                 xdsAddress is what sidecars dial, and is named in the xDS serving certificate
  --mutating-webhook-configuration NAME    whose caBundle the leader keeps current (env WEFT_MUTATING_WEBHOOK_CONFIGURATION)
  --validating-webhook-configuration NAME  likewise (env WEFT_VALIDATING_WEBHOOK_CONFIGURATION)
  --cabundle-resync 10s          periodic caBundle check (a watch restores changes at once)
`;

function duration(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0) throw new Error(`--${name}: "${text}" is not a duration such as 500ms, 15s or 5m`);
  return ms;
}

function bool(name: string, text: string): boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new Error(`--${name} must be true or false, got "${text}"`);
}

/** HOST:PORT (port 0 picks one), or [v6]:PORT. */
function listenAddress(name: string, text: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new Error(`--${name}: "${text}" is not HOST:PORT`);
  return { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port };
}

/** What the flags (and the chart's environment) ask for, before anything touches the network. */
interface Settings {
  readonly base: Omit<ControllerOptions, 'xdsAddress'>;
  readonly kubeconfig: string | undefined;
  readonly namespace: string;
  readonly xdsAddress: string;
  readonly xdsPlaintext: boolean;
  readonly ca: { readonly secretName: string; readonly create: boolean; readonly trustDomain: string; readonly workloadCertTtlMs?: number };
  readonly webhook?: {
    readonly host: string;
    readonly port: number;
    readonly serviceName: string;
    readonly injectValuesFile?: string;
    readonly configurations: readonly WebhookConfigurationRef[];
    readonly caBundleIntervalMs: number;
  };
}

const env = (name: string): string | undefined => process.env[name] || undefined;

function parseSettings(argv: string[]): Settings | 'help' {
  // `--leader-elect` alone means true (kube-style boolean flags with an optional value).
  const args = argv.map((a) => (a === '--leader-elect' ? '--leader-elect=true' : a === '--ca-create' ? '--ca-create=true' : a));
  const { values } = parseArgs({
    args,
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string', default: 'weft-system' },
      'xds-address': { type: 'string' },
      'xds-plaintext': { type: 'boolean', default: false },
      'monitoring-address': { type: 'string', default: `127.0.0.1:${MeshPorts.monitoring}` },
      'leader-elect': { type: 'string', default: 'true' },
      'leader-identity': { type: 'string' },
      'lease-name': { type: 'string' },
      'lease-duration': { type: 'string', default: '15s' },
      'renew-deadline': { type: 'string', default: '10s' },
      'retry-period': { type: 'string', default: '2s' },
      'watch-stall-timeout': { type: 'string', default: '5m' },
      'informer-max-backoff': { type: 'string', default: '10s' },
      'status-resync': { type: 'string', default: '1s' },
      'discovery-selector': { type: 'string' },
      'ca-secret': { type: 'string' },
      'ca-create': { type: 'string', default: 'true' },
      'trust-domain': { type: 'string' },
      'workload-cert-ttl': { type: 'string' },
      'webhook-address': { type: 'string' },
      'webhook-service': { type: 'string' },
      'inject-values': { type: 'string' },
      'mutating-webhook-configuration': { type: 'string' },
      'validating-webhook-configuration': { type: 'string' },
      'cabundle-resync': { type: 'string', default: '10s' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const maxBackoff = duration('informer-max-backoff', values['informer-max-backoff'])!;
  const namespace = values.namespace;
  const plaintext = values['xds-plaintext'];
  const xdsAddress = values['xds-address'] ?? (plaintext ? `127.0.0.1:${MeshPorts.xdsPlaintext}` : `0.0.0.0:${MeshPorts.xdsTls}`);
  listenAddress('xds-address', xdsAddress);
  const trustDomain = values['trust-domain'] ?? env('WEFT_TRUST_DOMAIN') ?? DEFAULT_TRUST_DOMAIN;
  if (!isValidTrustDomain(trustDomain)) throw new Error(`--trust-domain: "${trustDomain}" must be lowercase letters, digits, ".", "-" or "_"`);
  const ttlMs = duration('workload-cert-ttl', values['workload-cert-ttl']);
  if (ttlMs !== undefined && ttlMs < 60_000) throw new Error('--workload-cert-ttl: must be at least 1m (certificates renew at about half their life)');
  if (plaintext && ttlMs !== undefined) throw new Error('--workload-cert-ttl needs TLS xDS (SDS is not served with --xds-plaintext)');
  const webhookAddress = values['webhook-address'] ?? env('WEFT_WEBHOOK_ADDRESS') ?? `0.0.0.0:${MeshPorts.webhook}`;
  const webhookListen = webhookAddress === 'off' ? undefined : listenAddress('webhook-address', webhookAddress);
  const configurations: WebhookConfigurationRef[] = [];
  const mutating = values['mutating-webhook-configuration'] ?? env('WEFT_MUTATING_WEBHOOK_CONFIGURATION');
  const validating = values['validating-webhook-configuration'] ?? env('WEFT_VALIDATING_WEBHOOK_CONFIGURATION');
  if (mutating) configurations.push({ kind: 'mutating', name: mutating });
  if (validating) configurations.push({ kind: 'validating', name: validating });
  const injectValuesFile = values['inject-values'] ?? env('WEFT_INJECT_VALUES');
  return {
    kubeconfig: values.kubeconfig,
    namespace,
    xdsAddress,
    xdsPlaintext: plaintext,
    ca: {
      secretName: values['ca-secret'] ?? env('WEFT_CA_SECRET') ?? ROOT_SECRET_NAME,
      create: bool('ca-create', values['ca-create']),
      trustDomain,
      ...(ttlMs !== undefined ? { workloadCertTtlMs: ttlMs } : {}),
    },
    ...(webhookListen
      ? {
          webhook: {
            ...webhookListen,
            serviceName: values['webhook-service'] ?? env('WEFT_WEBHOOK_SERVICE') ?? 'weft-webhook',
            ...(injectValuesFile ? { injectValuesFile } : {}),
            configurations,
            caBundleIntervalMs: duration('cabundle-resync', values['cabundle-resync'])!,
          },
        }
      : {}),
    base: {
      ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
      namespace,
      monitoringAddress: values['monitoring-address'],
      ...(values['leader-identity'] ? { identity: values['leader-identity'] } : {}),
      leaderElection: {
        enabled: bool('leader-elect', values['leader-elect']),
        ...(values['lease-name'] ? { leaseName: values['lease-name'] } : {}),
        leaseDurationMs: duration('lease-duration', values['lease-duration'])!,
        renewDeadlineMs: duration('renew-deadline', values['renew-deadline'])!,
        retryPeriodMs: duration('retry-period', values['retry-period'])!,
      },
      informer: {
        stallTimeoutMs: duration('watch-stall-timeout', values['watch-stall-timeout'])!,
        backoff: { initialMs: Math.min(500, maxBackoff), maxMs: maxBackoff },
      },
      statusResyncMs: duration('status-resync', values['status-resync'])!,
      ...(values['discovery-selector'] ? { namespaceSelector: parseLabelSelector(values['discovery-selector']) } : {}),
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
  const values = s.webhook ? await loadInjectValues(s.webhook.injectValuesFile, { namespace: s.namespace, trustBundlePem: ca.trustBundlePem }) : undefined;
  const extensions: ControllerExtension[] = [];
  const readiness: Record<string, () => boolean> = {};
  const debug: Record<string, () => unknown> = {};
  let result: Partial<ControllerOptions> = {};
  if (!s.xdsPlaintext) {
    const sec = await secureXds({
      ca,
      client,
      dnsNames: xdsDnsNames(s.namespace, values?.xdsAddress),
      ...(s.ca.workloadCertTtlMs !== undefined ? { workloadCertTtlMs: s.ca.workloadCertTtlMs } : {}),
      log,
    });
    result = { xdsCredentials: sec.options.xdsCredentials, authenticate: sec.options.authenticate, secrets: sec.options.secrets };
    extensions.push(sec.options.extension);
    debug.identity = () => sec.security.status();
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
      log,
    });
    extensions.push(webhook.extension);
    readiness.webhook = webhook.serving;
    debug.webhook = webhook.status;
  }
  return { opts: { ...opts, ...result, extensions, readiness, debug }, ...(webhook ? { webhook } : {}) };
}

export async function runController(argv: string[]): Promise<number> {
  let settings: Settings;
  try {
    const parsed = parseSettings(argv);
    if (parsed === 'help') {
      process.stdout.write(usage);
      return 0;
    }
    settings = parsed;
  } catch (err) {
    process.stderr.write(`weft controller: ${(err as Error).message}\n${usage}`);
    return 2;
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
    process.stderr.write(`weft controller: ${(err as Error).message}\n`);
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
      ...(webhookPort !== undefined ? { webhookPort } : {}),
      identity: controller.context.identity,
    })}\n`,
  );
  await signalled;
  await controller.close();
  return 0;
}
