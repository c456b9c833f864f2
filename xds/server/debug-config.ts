// What the control plane serves one proxy, for `weftctl config`: the resources of the snapshot
// its stream is pinned to (what it was last pushed, or is being pushed), as Envoy's JSON. Secrets
// are summarised — name, kind, certificate subjects, SANs and validity — and their bytes never
// leave: no private key, no certificate body.
import { X509Certificate } from 'node:crypto';
import { fromBinary, toJson, type JsonValue } from '@bufbuild/protobuf';
import { SecretSchema, type Secret } from '../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import type { DataSource } from '../gen/envoy/config/core/v3/base_pb.js';
import { resourceTypes, TypeUrl } from '../resources/type-urls.ts';
import type { CachedSnapshot } from '../snapshot/types.ts';
import { pemBlocks } from '../../src/ca/pem.ts';
import type { ProxyDebug } from './debug.ts';

export interface CertificateSummary {
  readonly subject: string;
  readonly sans: readonly string[];
  readonly notBefore: string;
  readonly notAfter: string;
  readonly serial: string;
}

export interface SecretSummary {
  readonly name: string;
  /** certificate: the proxy's own (key withheld); trust-bundle: the CAs it validates peers with. */
  readonly kind: 'certificate' | 'trust-bundle' | 'other';
  readonly certificates: readonly CertificateSummary[];
}

export interface ProxyConfig {
  readonly proxy: ProxyDebug;
  readonly snapshotVersion?: string;
  readonly modelVersion?: string;
  readonly clusters: readonly JsonValue[];
  readonly listeners: readonly JsonValue[];
  readonly routes: readonly JsonValue[];
  readonly endpoints: readonly JsonValue[];
  readonly secrets: readonly SecretSummary[];
}

function pemOf(ds: DataSource | undefined): string {
  const s = ds?.specifier;
  if (s?.case === 'inlineBytes') return Buffer.from(s.value).toString('utf8');
  if (s?.case === 'inlineString') return s.value;
  return '';
}

function certificates(pem: string): CertificateSummary[] {
  return pemBlocks(pem)
    .filter((b) => b.label === 'CERTIFICATE')
    .flatMap((b) => {
      try {
        const c = new X509Certificate(b.der);
        return [
          {
            subject: (c.subject ?? '').replace(/\n/g, ', '),
            sans: (c.subjectAltName ?? '').split(', ').filter((x) => x !== ''),
            notBefore: new Date(c.validFrom).toISOString(),
            notAfter: new Date(c.validTo).toISOString(),
            serial: c.serialNumber,
          },
        ];
      } catch {
        return [];
      }
    });
}

export function summariseSecret(s: Secret): SecretSummary {
  if (s.type.case === 'tlsCertificate') return { name: s.name, kind: 'certificate', certificates: certificates(pemOf(s.type.value.certificateChain)) };
  if (s.type.case === 'validationContext') return { name: s.name, kind: 'trust-bundle', certificates: certificates(pemOf(s.type.value.trustedCa)) };
  return { name: s.name, kind: 'other', certificates: [] };
}

/** The proxy's pinned snapshot as JSON per type (resources sorted by name), secrets summarised. */
export async function proxyConfig(proxy: ProxyDebug, snapshot: CachedSnapshot | undefined): Promise<ProxyConfig> {
  // Loaded on first use: every generated Envoy file, needed only to print Any-typed fields.
  const { envoyRegistry } = await import('../resources/registry.ts');
  const out: Record<'clusters' | 'listeners' | 'routes' | 'endpoints', JsonValue[]> = { clusters: [], listeners: [], routes: [], endpoints: [] };
  const secrets: SecretSummary[] = [];
  for (const t of resourceTypes) {
    const byName = snapshot?.resources.get(t.typeUrl);
    const names = [...(byName?.keys() ?? [])].sort();
    for (const name of names) {
      const r = byName?.get(name);
      if (r === undefined) continue;
      if (t.typeUrl === TypeUrl.Secret) secrets.push(summariseSecret(fromBinary(SecretSchema, r.bytes)));
      else if (t.setField !== 'secrets') out[t.setField].push(toJson(t.schema, fromBinary(t.schema, r.bytes), { registry: envoyRegistry }));
    }
  }
  return {
    proxy,
    ...(snapshot !== undefined ? { snapshotVersion: snapshot.version, modelVersion: snapshot.modelVersion } : {}),
    ...out,
    secrets,
  };
}
