// Real-Envoy helpers for the SDS suites: a static TLS listener that makes Envoy request the
// SDS secrets over ADS (until mTLS translation references them), reading the workload
// certificate from admin /certs, and a TLS handshake that shows what the listener serves.
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { splitCertificates } from '../../src/ca/pem.ts';
import type { EnvoyHandle } from '../support/envoy.ts';

const ads = { ads: {}, resource_api_version: 'V3' };

/** Adds a static listener whose TLS context takes its certificate and roots from SDS over ADS. */
export function withSdsProbeListener(bootstrapYaml: string, port: number): string {
  const doc = parseYaml(bootstrapYaml) as { static_resources: { listeners?: unknown[] } };
  doc.static_resources.listeners = [
    ...(doc.static_resources.listeners ?? []),
    {
      name: 'sds-probe',
      address: { socket_address: { address: '127.0.0.1', port_value: port } },
      filter_chains: [
        {
          filters: [
            {
              name: 'envoy.filters.network.http_connection_manager',
              typed_config: {
                '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                stat_prefix: 'sds_probe',
                route_config: {
                  virtual_hosts: [
                    { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'ok' } } }] },
                  ],
                },
                http_filters: [
                  { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
                ],
              },
            },
          ],
          transport_socket: {
            name: 'envoy.transport_sockets.tls',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
              common_tls_context: {
                tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: ads }],
                validation_context_sds_secret_config: { name: 'ROOTCA', sds_config: ads },
              },
            },
          },
        },
      ],
    },
  ];
  return stringifyYaml(doc, { lineWidth: 0 });
}

interface CertInfo {
  serial_number: string;
  subject_alt_names?: { uri?: string; dns?: string }[];
}
interface CertsDump {
  certificates: { ca_cert: CertInfo[]; cert_chain: CertInfo[] }[];
}

/** The serial of the first certificate in a PEM bundle, as Envoy's /certs prints it. */
export function serialOf(pem: string): string {
  return new X509Certificate(splitCertificates(pem)[0]!).serialNumber.toLowerCase();
}

/**
 * The SDS workload certificate Envoy's admin /certs shows: the SVID that is not the xDS
 * client certificate of the bootstrap (`clientSerial`), which /certs lists as well.
 */
export async function workloadCert(envoy: EnvoyHandle, clientSerial: string): Promise<{ serial: string; uri: string; roots: number } | undefined> {
  const dump = JSON.parse(await envoy.admin('/certs')) as CertsDump;
  for (const c of dump.certificates) {
    const leaf = c.cert_chain[0];
    const uri = leaf?.subject_alt_names?.find((s) => s.uri?.startsWith('spiffe://'))?.uri;
    if (leaf && uri && leaf.serial_number.toLowerCase() !== clientSerial)
      return { serial: leaf.serial_number.toLowerCase(), uri, roots: dump.certificates.reduce((n, x) => n + x.ca_cert.length, 0) };
  }
  return undefined;
}

export function handshake(port: number, rootPem: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    // An SVID names a workload, not a host: check the chain here, the SAN below.
    const sock = connect({ host: '127.0.0.1', port, ca: rootPem, checkServerIdentity: () => undefined }, () => {
      const raw = sock.getPeerCertificate().raw;
      sock.end();
      resolve(new X509Certificate(raw));
    });
    sock.on('error', reject);
  });
}

export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
