// Identity from a client certificate (proxies outside Kubernetes): an X.509-SVID from the
// mesh CA. Chain verification is the TLS layer's job — callers pass only certificates of
// authorized sockets (grpc-js's getAuthContext) — this checks what makes it an SVID: not a
// CA, usable for client auth, exactly one URI SAN that is a workload SPIFFE ID of our trust
// domain.
import { X509Certificate } from 'node:crypto';
import * as pkijs from 'pkijs';
import { parseCertificate } from '../ca/x509.ts';
import { parseSpiffeId } from '../ca/spiffe.ts';

export type CertIdentity = { ok: true; identity: string } | { ok: false; reason: string };

const SAN_OID = '2.5.29.17';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const URI = 6;

/** URI SANs of a DER certificate (pkijs decodes the extension). */
function uriSans(der: Uint8Array): string[] | undefined {
  try {
    const ext = parseCertificate(der).extensions?.find((e) => e.extnID === SAN_OID);
    const names = ext?.parsedValue instanceof pkijs.AltName ? ext.parsedValue.altNames : [];
    return names.filter((n) => n.type === URI).map((n) => String(n.value));
  } catch {
    return undefined;
  }
}

export function identityFromCertificate(der: Uint8Array, trustDomain: string): CertIdentity {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    return { ok: false, reason: 'client certificate is not valid X.509' };
  }
  if (cert.ca) return { ok: false, reason: 'client certificate is a CA certificate' };
  const eku = cert.keyUsage; // node: the extended key usage OIDs, undefined when absent
  if (eku !== undefined && !eku.includes(CLIENT_AUTH)) return { ok: false, reason: 'client certificate is not valid for client authentication' };
  const uris = uriSans(der);
  if (uris === undefined) return { ok: false, reason: 'client certificate extensions could not be decoded' };
  if (uris.length !== 1) return { ok: false, reason: `client certificate must carry exactly one URI SAN (a SPIFFE ID), found ${uris.length}` };
  const id = uris[0]!;
  const parsed = parseSpiffeId(id);
  if (!parsed.ok) return { ok: false, reason: `client certificate URI SAN is not a workload SPIFFE ID: ${parsed.reason}` };
  if (parsed.identity.trustDomain !== trustDomain)
    return { ok: false, reason: `client certificate is for trust domain "${parsed.identity.trustDomain}", not "${trustDomain}"` };
  return { ok: true, identity: id };
}
