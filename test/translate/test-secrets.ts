// Workload certificates from Weft's real CA as static Envoy Secrets, standing in for SDS
// in tests that run Envoy from a static bootstrap: `default` (the workload's chain and
// key) and `ROOTCA` (the trust bundle), the names translation references.
import { create } from '@bufbuild/protobuf';
import { createRootCa, loadCa, type CertificateAuthority, type IssuedCertificate } from '../../src/ca/authority.ts';
import { SecretSchema, type Secret } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { TRUST_BUNDLE_SECRET, WORKLOAD_CERT_SECRET } from '../../xds/resources/names.ts';

export async function testCa(trustDomain = 'cluster.local'): Promise<CertificateAuthority> {
  const loaded = loadCa(await createRootCa(), { trustDomain });
  if (!loaded.ok) throw new Error(`test CA: ${JSON.stringify(loaded.errors)}`);
  return loaded.ca;
}

export async function issueSvid(ca: CertificateAuthority, namespace: string, serviceAccount: string): Promise<IssuedCertificate & { keyPem: string }> {
  const res = await ca.issueSvid({ namespace, serviceAccount });
  if (!res.ok || res.cert.keyPem === undefined) throw new Error(`issueSvid ${namespace}/${serviceAccount}: ${res.ok ? 'no key' : res.reason}`);
  return { ...res.cert, keyPem: res.cert.keyPem };
}

/** The two SDS secrets a proxy with identity ns/sa receives. */
export async function workloadSecrets(ca: CertificateAuthority, namespace: string, serviceAccount: string): Promise<Secret[]> {
  const cert = await issueSvid(ca, namespace, serviceAccount);
  const inline = (value: string) => ({ specifier: { case: 'inlineString' as const, value } });
  return [
    create(SecretSchema, {
      name: WORKLOAD_CERT_SECRET,
      type: { case: 'tlsCertificate', value: { certificateChain: inline(cert.chainPem), privateKey: inline(cert.keyPem) } },
    }),
    create(SecretSchema, { name: TRUST_BUNDLE_SECRET, type: { case: 'validationContext', value: { trustedCa: inline(ca.trustBundlePem) } } }),
  ];
}
