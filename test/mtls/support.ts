// Clients for the mTLS tests: a request through an explicit-mode Envoy (the HTTP proxy a
// meshed client uses), and direct plaintext / TLS requests to a server proxy's inbound
// port (what a client without a sidecar, or an impostor, would send). Every helper
// resolves to an outcome instead of throwing, so tests can assert refusals.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export type Outcome = { ok: true; status: number; backend: string } | { ok: false; error: string };

function outcome(req: ReturnType<typeof httpRequest>): Promise<Outcome> {
  return new Promise((resolve) => {
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ ok: true, status: res.statusCode ?? 0, backend: String(res.headers['x-backend'] ?? '') }));
      res.on('error', (e) => resolve({ ok: false, error: e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, error: e.code ?? e.message }));
    req.end();
  });
}

/** `curl -x http://127.0.0.1:<proxyPort> <url>`: through a meshed client's explicit HTTP proxy. */
export function viaProxy(proxyPort: number, url: string): Promise<Outcome> {
  const host = new URL(url).host;
  return outcome(httpRequest({ host: '127.0.0.1', port: proxyPort, path: url, headers: { host }, agent: false }));
}

/** Plain HTTP straight to a port (a client without a sidecar). */
export function plaintext(port: number): Promise<Outcome> {
  return outcome(httpRequest({ host: '127.0.0.1', port, path: '/', agent: false }));
}

export interface TlsClientOptions {
  /** Trust bundle the client verifies the server against. */
  readonly ca: string;
  /** Client certificate chain and key; none: a TLS client without a certificate. */
  readonly cert?: string;
  readonly key?: string;
}

/**
 * HTTPS straight to a port. SVIDs carry only a URI SAN, so the host-name check is replaced
 * by requiring a SPIFFE URI SAN; the chain is still verified against `ca`.
 */
export function tls(port: number, opts: TlsClientOptions): Promise<Outcome> {
  return outcome(
    httpsRequest({
      host: '127.0.0.1',
      port,
      path: '/',
      agent: false,
      ca: opts.ca,
      ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
      checkServerIdentity: (_host, cert) => (/URI:spiffe:\/\//.test(cert.subjectaltname ?? '') ? undefined : new Error('no SPIFFE SAN')),
    }),
  );
}

/** Sum of the stats whose names match `re` (e.g. every listener's ssl.handshake). */
export function sumStats(stats: ReadonlyMap<string, number>, re: RegExp): number {
  let n = 0;
  for (const [name, v] of stats) if (re.test(name)) n += v;
  return n;
}

/** Service shop/pay (mTLS) on 127.0.0.1:`inboundPort`, its app on `appPort`, STRICT by PeerAuth `pay-strict`. */
export function strictPayMeshYaml(appPort: number, inboundPort: number): string {
  return `
apiVersion: v1
kind: Service
metadata: {name: pay, namespace: shop, annotations: {weft.dev/mtls: "true"}}
spec:
  selector: {app: pay}
  ports: [{name: http, port: 8080, targetPort: ${appPort}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: pay-1, namespace: shop, labels: {kubernetes.io/service-name: pay}}
addressType: IPv4
ports: [{name: http, port: ${inboundPort}}]
endpoints: [{addresses: [127.0.0.1]}]
---
apiVersion: mesh.weft.dev/v1alpha1
kind: PeerAuth
metadata: {name: pay-strict, namespace: shop}
spec: {selector: {matchLabels: {app: pay}}, mtls: {mode: STRICT}}
`;
}
