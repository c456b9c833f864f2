// The two SDS secrets every meshed proxy receives (names in xds/resources/names.ts):
// its own workload certificate and key, and the mesh trust bundle. Inline bytes, so the
// material lives only in memory on both ends; Envoy redacts private keys in config dumps.
import { create } from '@bufbuild/protobuf';
import { SecretSchema, type Secret } from '../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { TRUST_BUNDLE_SECRET, WORKLOAD_CERT_SECRET } from '../resources/names.ts';

const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

/** `tls_certificate` with the leaf + intermediates (certificate_chain) and its PKCS#8 key. */
export function workloadCertSecret(chainPem: string, keyPem: string): Secret {
  return create(SecretSchema, {
    name: WORKLOAD_CERT_SECRET,
    type: {
      case: 'tlsCertificate',
      value: {
        certificateChain: { specifier: { case: 'inlineBytes', value: utf8(chainPem) } },
        privateKey: { specifier: { case: 'inlineBytes', value: utf8(keyPem) } },
      },
    },
  });
}

/** `validation_context` trusting the mesh roots (several during a root rotation). */
export function trustBundleSecret(trustBundlePem: string): Secret {
  return create(SecretSchema, {
    name: TRUST_BUNDLE_SECRET,
    type: { case: 'validationContext', value: { trustedCa: { specifier: { case: 'inlineBytes', value: utf8(trustBundlePem) } } } },
  });
}
