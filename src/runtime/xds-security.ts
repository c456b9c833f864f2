// Everything the xDS server needs to run secured, from one CA: TLS credentials with a
// rotating serving certificate, the Authenticate hook (ServiceAccount tokens and/or client
// certificates), and per-identity SDS secrets with renewal. `weft serve --ca-dir` and
// `weft controller` both build it here and wire it the same way:
//
//   const sec = await createXdsSecurity({
//     ca,                                                   // bootstrapCa(...) result
//     tokens: { podLookup: podLookupFromIndex(index), jwks: { client } },   // Kubernetes only
//     serving: { dnsNames: [...xdsServiceDnsNames(namespace), 'localhost'] },
//   });
//   const cp = await startControlPlane({
//     ..., xdsCredentials: sec.credentials, authenticate: sec.authenticate,
//     secrets: sec,                  // SDS secrets in every snapshot from the start, re-pushed on renewal
//   });
//   ...
//   sec.close();                     // on shutdown, after the control plane closed
import type { ServerCredentials } from '@grpc/grpc-js';
import type { CertificateAuthority } from '../ca/authority.ts';
import type { KeyAlgorithm } from '../ca/keys.ts';
import type { KubeClient } from '../k8s/client.ts';
import { log as rootLog, type Logger } from '../base/log.ts';
import type { Clock } from '../base/clock.ts';
import type { Authenticate } from '../identity/auth-hook.ts';
import { createXdsTls, type ServingCertStatus } from '../../xds/server/tls.ts';
import type { SecretsFor, SecretsProvider } from '../../xds/secrets/generator.ts';
import { WorkloadSecrets, type IdentityCertStatus } from '../../xds/secrets/workload-secrets.ts';
import { createAuthenticator } from '../identity/authenticate.ts';
import { JwksCache, kubeOidc, type JwksFetcher } from '../identity/jwks.ts';
import { TokenVerifier, type PodLookup } from '../identity/token.ts';

export interface TokenAuthOptions {
  /** Live Pods by namespace/name: the controller's pod informer, or an API GET in tests. */
  readonly podLookup: PodLookup;
  /**
   * The API server's signing keys: through its OIDC discovery with `client`'s credentials
   * (issuer from /.well-known/openid-configuration), or an explicit fetcher and issuer.
   */
  readonly jwks: { readonly client: KubeClient } | { readonly fetch: JwksFetcher; readonly issuer: string | readonly string[] };
  /** Required token audience (default `weft`, what the webhook projects). */
  readonly audience?: string;
  /** Minimum time between JWKS refetches caused by unknown key ids (default 10 s). */
  readonly minRefetchIntervalMs?: number;
  /** Clock for token expiry (tests). */
  readonly now?: () => number;
}

export interface XdsSecurityOptions {
  readonly ca: CertificateAuthority;
  /** Accept projected ServiceAccount tokens (Kubernetes); omit for client certificates only. */
  readonly tokens?: TokenAuthOptions;
  /** Accept client certificates from the CA (default true). */
  readonly clientCertificates?: boolean;
  /** Workload certificate lifetime (default 24 h). */
  readonly workloadCertTtlMs?: number;
  readonly keyAlgorithm?: KeyAlgorithm;
  /** xDS serving certificate: SANs and lifetime (defaults in xds/server/tls.ts). */
  readonly serving?: { readonly dnsNames?: readonly string[]; readonly ipAddresses?: readonly string[]; readonly ttlMs?: number };
  /** Time for certificate issuance and rotation (default: the system clock). */
  readonly clock?: Clock;
  readonly log?: Logger;
}

export interface XdsSecurityStatus {
  readonly trustDomain: string;
  readonly serving: ServingCertStatus;
  readonly identities: readonly IdentityCertStatus[];
  readonly jwksFetches?: number;
  readonly cachedTokens?: number;
  /** Root rotation in progress (or last finished): phase and proxies ACKed (src/runtime/root-rotation.ts). */
  readonly rotation?: unknown;
}

/** Also the control plane's SecretsProvider (ControlPlaneOptions.secrets). */
export interface XdsSecurity extends SecretsProvider {
  /** TLS for startXdsServer / ControlPlaneOptions.xdsCredentials; renews itself. */
  readonly credentials: ServerCredentials;
  /** For startXdsServer / ControlPlaneOptions.authenticate; issues the identity's certificate before it returns. */
  readonly authenticate: Authenticate;
  /** SDS secrets of an identity (none for undefined). */
  readonly secretsFor: SecretsFor;
  /** Runs after an identity's certificate was issued or renewed. */
  onRotate(listener: (identity: string) => void): () => void;
  /** For a debug view: certificates (never keys) and token-verification counters. */
  status(): XdsSecurityStatus;
  /**
   * Root rotation: SDS secrets trust and are signed by `workload`; the xDS server trusts client
   * certificates from `serving`'s bundle and serves a certificate it signed. Idempotent.
   */
  setCa(cas: { readonly workload: CertificateAuthority; readonly serving: CertificateAuthority }): Promise<void>;
  /** The secret versions a proxy of `identity` ACKs once it holds the current ones (WorkloadSecrets.expected). */
  expected(identity: string): { bundle: string; cert?: string; currentSigner: boolean };
  /** The rotation status shown in status() (the rotation driver registers it). */
  reportRotation(status: () => unknown): void;
  close(): void;
}

export async function createXdsSecurity(opts: XdsSecurityOptions): Promise<XdsSecurity> {
  const log = opts.log ?? rootLog;
  const trustDomain = opts.ca.trustDomain;
  let jwks: JwksCache | undefined;
  let tokens: TokenVerifier | undefined;
  if (opts.tokens) {
    const t = opts.tokens;
    const source = 'client' in t.jwks ? await kubeOidc(t.jwks.client) : { issuer: t.jwks.issuer, fetchJwks: t.jwks.fetch };
    jwks = new JwksCache({ fetch: source.fetchJwks, log, ...(t.minRefetchIntervalMs !== undefined ? { minRefetchIntervalMs: t.minRefetchIntervalMs } : {}) });
    tokens = new TokenVerifier({
      keys: jwks,
      issuer: source.issuer,
      trustDomain,
      podLookup: t.podLookup,
      ...(t.audience !== undefined ? { audience: t.audience } : {}),
      ...(t.now !== undefined ? { now: t.now } : {}),
    });
    // Warm the key cache so the first proxies don't wait on it (a failure retries on demand).
    void jwks.refresh();
  }
  const clock = opts.clock ? { clock: opts.clock } : {};
  const tls = await createXdsTls({ ca: opts.ca, log, ...clock, ...opts.serving });
  const secrets = new WorkloadSecrets({
    ca: opts.ca,
    log,
    ...clock,
    ...(opts.workloadCertTtlMs !== undefined ? { ttlMs: opts.workloadCertTtlMs } : {}),
    ...(opts.keyAlgorithm !== undefined ? { keyAlgorithm: opts.keyAlgorithm } : {}),
  });
  const authenticator = createAuthenticator({
    trustDomain,
    log,
    ...(tokens ? { tokens } : {}),
    ...(opts.clientCertificates !== undefined ? { clientCertificates: opts.clientCertificates } : {}),
  });

  let rotation: (() => unknown) | undefined;
  return {
    credentials: tls.credentials,
    async authenticate(call, node) {
      const r = await authenticator(call, node);
      // Issue before the stream's first snapshot, so it already carries the certificate.
      if (r.ok && r.identity !== undefined) await secrets.ensure(r.identity);
      return r;
    },
    secretsFor: (identity) => secrets.secretsFor(identity),
    onRotate: (listener) => secrets.onRotate(listener),
    status: () => ({
      trustDomain,
      serving: tls.current(),
      identities: secrets.status(),
      ...(jwks ? { jwksFetches: jwks.fetches } : {}),
      ...(tokens ? { cachedTokens: tokens.cached } : {}),
      ...(rotation ? { rotation: rotation() } : {}),
    }),
    async setCa(cas) {
      await Promise.all([secrets.setCa(cas.workload), tls.setCa(cas.serving)]);
    },
    expected: (identity) => secrets.expected(identity),
    reportRotation(status) {
      rotation = status;
    },
    close() {
      tls.close();
      secrets.close();
    },
  };
}

/** The certificates whose expiry the mesh view shows: the xDS serving certificate and every workload identity's (no key material). */
export function certificatesOf(status: XdsSecurityStatus): { kind: 'workload' | 'serving'; subject: string; notAfter: string }[] {
  return [
    { kind: 'serving', subject: 'xDS server', notAfter: status.serving.notAfter },
    ...status.identities.map((i) => ({ kind: 'workload' as const, subject: i.identity, notAfter: i.notAfter })),
  ];
}
