// A real xDS server over TLS, secured by createXdsSecurity from a fresh CA, and real grpc-js
// clients that dial it with or without a client certificate or a bearer token. Secrets in
// responses are decoded into the parts the tests compare: the SAN, serial and key of the
// workload certificate, and the trust bundle.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { Client, credentials, Metadata, type CallCredentials } from '@grpc/grpc-js';
import { createRootCa, loadCa, type CertificateAuthority } from '../../src/ca/authority.ts';
import { createXdsSecurity, type TokenAuthOptions, type XdsSecurity } from '../../src/runtime/xds-security.ts';
import type { DiscoveryResponse } from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { SecretSchema, type Secret } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { startXdsServer, type RunningXdsServer } from '../../xds/server/start.ts';
import { SnapshotCache } from '../../xds/snapshot/cache.ts';
import type { Clock } from '../../src/base/clock.ts';
import { refreshOnRotate, withSecrets } from '../../xds/secrets/generator.ts';
import { cluster, resourceSet } from '../xds-server/support/resources.ts';
import { meshModel } from '../xds-server/support/world.ts';

export async function newCa(trustDomain = 'cluster.local'): Promise<CertificateAuthority> {
  const r = loadCa(await createRootCa(), { trustDomain });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.ca;
}

export interface SecureServer {
  readonly ca: CertificateAuthority;
  readonly security: XdsSecurity;
  readonly server: RunningXdsServer;
  readonly cache: SnapshotCache;
  /** Serves these clusters from now on (every group regenerated). */
  setClusters(names: readonly string[]): void;
  /** A client presenting `cert` (chain + key), or none; `token` adds `authorization: Bearer`. */
  client(opts?: { cert?: { chainPem: string; keyPem: string }; token?: string; trust?: string }): Client;
  /** An SVID from this server's CA for ns/sa, for use as a client certificate. */
  svid(namespace: string, serviceAccount: string): Promise<{ chainPem: string; keyPem: string }>;
  close(): Promise<void>;
}

export async function startSecureServer(
  opts: { workloadCertTtlMs?: number; servingTtlMs?: number; tokens?: TokenAuthOptions; ca?: CertificateAuthority; clock?: Clock } = {},
): Promise<SecureServer> {
  const ca = opts.ca ?? (await newCa());
  const security = await createXdsSecurity({
    ca,
    ...(opts.workloadCertTtlMs !== undefined ? { workloadCertTtlMs: opts.workloadCertTtlMs } : {}),
    ...(opts.tokens ? { tokens: opts.tokens } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    serving: { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], ...(opts.servingTtlMs !== undefined ? { ttlMs: opts.servingTtlMs } : {}) },
  });
  let clusters: readonly string[] = ['a.shop'];
  const base = () => resourceSet({ clusters: clusters.map((c) => cluster(c)) });
  // As the control plane does: the secrets generator from the start, refreshed on rotation.
  const cache = new SnapshotCache({ generate: withSecrets(base, security.secretsFor), model: meshModel('m1') });
  const offRotate = refreshOnRotate(cache, security);
  const server = await startXdsServer({
    address: '127.0.0.1:0',
    cache,
    credentials: security.credentials,
    authenticate: security.authenticate,
    debounce: { holdoffMs: 20, maxDelayMs: 200 },
    // WEFT_TEST_XDS_WORKERS=2: the same suite through xDS worker threads (TLS material, admission and SDS from the primary).
    ...(Number(process.env.WEFT_TEST_XDS_WORKERS ?? 0) > 0 ? { workers: Number(process.env.WEFT_TEST_XDS_WORKERS) } : {}),
  });
  const clients: Client[] = [];
  return {
    ca,
    security,
    server,
    cache,
    setClusters(names) {
      clusters = names;
      cache.refresh(() => true);
    },
    client(c = {}) {
      let creds = credentials.createSsl(
        Buffer.from(c.trust ?? ca.trustBundlePem),
        c.cert ? Buffer.from(c.cert.keyPem) : null,
        c.cert ? Buffer.from(c.cert.chainPem) : null,
      );
      if (c.token !== undefined) creds = credentials.combineChannelCredentials(creds, bearer(c.token));
      const client = new Client(`127.0.0.1:${server.port}`, creds);
      clients.push(client);
      return client;
    },
    async svid(namespace, serviceAccount) {
      const r = await ca.issueSvid({ namespace, serviceAccount });
      if (!r.ok || r.cert.keyPem === undefined) throw new Error('svid');
      return { chainPem: r.cert.chainPem, keyPem: r.cert.keyPem };
    },
    async close() {
      for (const c of clients) c.close();
      await server.close();
      offRotate();
      security.close();
    },
  };
}

export function bearer(token: string): CallCredentials {
  return credentials.createFromMetadataGenerator((_params, cb) => {
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    cb(null, md);
  });
}

export interface DecodedSecret {
  readonly name: string;
  /** Workload certificate: the leaf's URI SANs, serial, and whether the key matches it. */
  readonly uriSans?: readonly string[];
  readonly serial?: string;
  readonly keyMatches?: boolean;
  readonly chainPem?: string;
  readonly keyPem?: string;
  /** Trust bundle PEM. */
  readonly trustedCa?: string;
}

const text = (b: Uint8Array | string | undefined): string => (typeof b === 'string' ? b : Buffer.from(b ?? new Uint8Array()).toString('utf8'));

export function decodeSecret(s: Secret): DecodedSecret {
  if (s.type.case === 'tlsCertificate') {
    const chainPem = text(s.type.value.certificateChain?.specifier.value);
    const keyPem = text(s.type.value.privateKey?.specifier.value);
    const leaf = new X509Certificate(chainPem);
    const uriSans = (leaf.subjectAltName ?? '')
      .split(', ')
      .filter((n) => n.startsWith('URI:'))
      .map((n) => n.slice(4));
    return { name: s.name, uriSans, serial: leaf.serialNumber, keyMatches: leaf.checkPrivateKey(createPrivateKey(keyPem)), chainPem, keyPem };
  }
  if (s.type.case === 'validationContext') return { name: s.name, trustedCa: text(s.type.value.trustedCa?.specifier.value) };
  return { name: s.name };
}

export function secretsOf(res: DiscoveryResponse): DecodedSecret[] {
  return res.resources.map((a) => {
    const s = anyUnpack(a, SecretSchema);
    if (s === undefined) throw new Error(`not a Secret: ${a.typeUrl}`);
    return decodeSecret(s);
  });
}
