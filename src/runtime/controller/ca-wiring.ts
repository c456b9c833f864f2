// The controller's CA and secured xDS. The CA lives in a Secret of the control-plane
// namespace: the generated root (`weft-root-ca`, created once: every replica races a plain
// create and the API server admits exactly one, losers adopt the winner's), or a user-supplied
// root or intermediate named by --ca-secret with creation off. Every replica loads it (all of
// them serve xDS and the webhook), so this is not leader-gated: the create is the arbiter.
//
// secureXds wires createXdsSecurity into startController: TLS credentials, proxy
// authentication (projected tokens verified against the API server's keys, pods looked up in
// the controller's index) and the SDS secrets the control plane's generator joins to translation.
import { certificateExpiry } from '../../base/metrics.ts';
import { HttpMethod, type CoreV1Api, type V1Secret } from '@kubernetes/client-node';
import type { CertificateAuthority } from '../../ca/authority.ts';
import { bootstrapCa } from '../../ca/bootstrap.ts';
import { secretRootStore } from '../../ca/secret-store.ts';
import { podLookupFromIndex } from '../../identity/pod-lookup.ts';
import type { PodLookup } from '../../identity/token.ts';
import { EGRESS_ANNOTATION, type EgressSpec } from '../../api/egress.ts';
import { createXdsSecurity, type XdsSecurity } from '../xds-security.ts';
import type { ClusterIndex } from '../../k8s/cluster-index.ts';
import type { KubeClient } from '../../k8s/client.ts';
import type { Logger } from '../../base/log.ts';
import type { Authenticate } from '../../identity/auth-hook.ts';
import type { ControllerExtension, ControllerOptions } from './run.ts';
import { errorMessage } from '../../base/errors.ts';
import { RootRotation } from '../root-rotation.ts';
import { REPORT_ANNOTATION_PREFIX, reportKey, secretRotationStore } from './ca-rotation.ts';
import type { WebhookWiring } from './webhook-wiring.ts';

type SecretApi = Pick<CoreV1Api, 'readNamespacedSecret' | 'createNamespacedSecret'>;

/** CoreV1Api's two Secret calls over KubeClient, so they are counted and logged like every other request. */
export function secretApi(client: KubeClient): SecretApi {
  const path = (ns: string, name?: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets${name ? `/${encodeURIComponent(name)}` : ''}`;
  return {
    readNamespacedSecret: async ({ name, namespace }: { name: string; namespace: string }) => client.request<V1Secret>(HttpMethod.GET, path(namespace, name)),
    createNamespacedSecret: async ({ namespace, body }: { namespace: string; body: V1Secret }) =>
      client.request<V1Secret>(HttpMethod.POST, path(namespace), { body }),
  } as SecretApi;
}

export interface ControllerCaOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly secretName: string;
  /** Generate and store a root when the Secret is absent (false: it must hold user-supplied material). */
  readonly create: boolean;
  readonly trustDomain: string;
  readonly log: Logger;
}

/** Loads (or creates) the CA; throws an Error naming the Secret and every problem with it. */
export async function loadControllerCa(opts: ControllerCaOptions): Promise<CertificateAuthority> {
  const where = `Secret ${opts.namespace}/${opts.secretName}`;
  const store = secretRootStore(secretApi(opts.client), { namespace: opts.namespace, name: opts.secretName });
  let r;
  try {
    r = await bootstrapCa(store, { trustDomain: opts.trustDomain, createIfMissing: opts.create });
  } catch (err) {
    throw new Error(`CA ${where}: ${errorMessage(err)}`);
  }
  if (!r.ok) {
    const missing = r.errors.some((e) => e.field === 'store');
    throw new Error(
      missing
        ? `CA ${where} does not exist and --ca-create=false: create it with tls.crt (the CA certificate, then its chain), tls.key and optionally ca.crt (roots)`
        : `CA ${where}: ${r.errors.map((e) => `${e.field}: ${e.reason}`).join('; ')}`,
    );
  }
  opts.log.info({ secret: where, source: r.source, trustDomain: opts.trustDomain, notAfter: r.ca.notAfter.toISOString() }, 'controller CA loaded');
  certificateExpiry.set({ certificate: 'ca-root' }, r.ca.notAfter.getTime() / 1000);
  return r.ca;
}

export interface SecureXdsOptions {
  readonly ca: CertificateAuthority;
  /** API server credentials for its OIDC discovery / JWKS (token signature keys). */
  readonly client: KubeClient;
  readonly dnsNames: readonly string[];
  readonly workloadCertTtlMs?: number;
  /** --egress-default: the scope of sidecars whose Pod and Namespace have no weft.dev/egress. */
  readonly egressDefault?: EgressSpec;
  readonly log: Logger;
}

export interface SecureXds {
  readonly security: XdsSecurity;
  /** The startController options that turn on TLS, authentication and SDS. */
  readonly options: Required<Pick<ControllerOptions, 'xdsCredentials' | 'authenticate' | 'secrets'>> & { readonly extension: ControllerExtension };
}

/** createXdsSecurity for the controller: tokens checked against pods in the controller's own index. */
export async function secureXds(opts: SecureXdsOptions): Promise<SecureXds> {
  let index: ClusterIndex | undefined;
  let lookup: PodLookup | undefined;
  const security = await createXdsSecurity({
    ca: opts.ca,
    log: opts.log,
    tokens: {
      podLookup: (ns, name) => {
        // authenticate(index) runs before the xDS server accepts a stream, so this is set.
        if (index === undefined) throw new Error('cluster index not wired yet');
        lookup ??= podLookupFromIndex(index, {
          ...(opts.egressDefault !== undefined ? { egressDefault: opts.egressDefault } : {}),
          onEgressProblem: (p) =>
            opts.log.warn(
              { namespace: p.namespace, ...(p.where === 'pod' ? { pod: p.pod } : {}), annotation: EGRESS_ANNOTATION, value: p.value, reason: p.reason },
              `invalid ${EGRESS_ANNOTATION} on the ${p.where === 'pod' ? 'Pod' : 'Namespace'}: its sidecars are unscoped (they receive every Service)`,
            ),
        });
        return lookup(ns, name);
      },
      jwks: { client: opts.client },
    },
    serving: { dnsNames: opts.dnsNames, ipAddresses: ['127.0.0.1', '::1'] },
    ...(opts.workloadCertTtlMs !== undefined ? { workloadCertTtlMs: opts.workloadCertTtlMs } : {}),
  });
  const authenticate = (ix: ClusterIndex): Authenticate => {
    index = ix;
    return security.authenticate;
  };
  // Only the shutdown: the secrets reach the control plane through options.secrets.
  const extension: ControllerExtension = async () => ({ close: async () => security.close() });
  return { security, options: { xdsCredentials: security.credentials, authenticate, secrets: security, extension } };
}

export interface CaRotationOptions {
  readonly secret: { readonly namespace: string; readonly name: string };
  readonly trustDomain: string;
  readonly security: XdsSecurity;
  readonly webhook?: Pick<WebhookWiring, 'setCa'>;
  readonly soakMs?: number;
}

/**
 * Root rotation on every replica (src/runtime/root-rotation.ts): each applies the phase recorded
 * in the CA Secret and reports its proxies' ACKs there; the leader starts, advances and finishes.
 */
export function caRotationExtension(opts: CaRotationOptions): ControllerExtension {
  return async (ctx) => {
    const driver = new RootRotation({
      store: secretRotationStore(ctx.client, opts.secret),
      security: opts.security,
      streams: () => ctx.controlPlane.xds.ads.debug(),
      trustDomain: opts.trustDomain,
      log: ctx.log,
      leader: ctx.isLeader,
      replica: reportKey(ctx.identity).slice(REPORT_ANNOTATION_PREFIX.length),
      // Every live replica must have reported the phase before the leader leaves it: a replica
      // that has not reported yet may hold proxies still on the old secrets.
      peers: () => ctx.livePeers().map((id) => reportKey(id).slice(REPORT_ANNOTATION_PREFIX.length)),
      ...(opts.webhook ? { onApply: (m) => (opts.webhook as Pick<WebhookWiring, 'setCa'>).setCa(m.serving, m.clientTrustPem) } : {}),
      ...(opts.soakMs !== undefined ? { soakMs: opts.soakMs } : {}),
    });
    // A replica started mid-rotation serves the recorded phase before its first proxies settle in.
    await driver.pass().catch((err: unknown) => ctx.log.error({ err: errorMessage(err) }, 'first rotation pass failed; retrying'));
    driver.start();
    return { close: () => driver.stop() };
  };
}
