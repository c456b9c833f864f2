// PERMISSIVE on an opaque TCP port whose application speaks TLS itself (an `https`/`tls`
// port): the server proxy must tell mesh mTLS from the application's own TLS. Only a
// connection offering the mesh ALPN (weft-mtls, what a client Envoy offers on TCP clusters)
// is terminated; any other TLS passes through to the app as bytes. One real Envoy fronts a
// TLS echo app; clients are Node TLS sockets.
import { connect, createServer, type ConnectionOptions, type Server, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateAuthority } from '../../src/ca/authority.ts';
import { buildModel } from '../../src/model/build.ts';
import { EXPLICIT_INBOUND_LISTENER, EXPLICIT_OUTBOUND_LISTENER } from '../../xds/resources/names.ts';
import { translate } from '../../xds/translate/index.ts';
import { MESH_TCP_ALPN } from '../../xds/translate/mtls.ts';
import { startEnvoy, type EnvoyHandle } from '../support/envoy.ts';
import { freePorts } from '../support/free-port.ts';
import { staticBootstrapYaml } from '../translate/static-bootstrap.ts';
import { parseDocuments } from '../translate/support.ts';
import { issueSvid, testCa, workloadSecrets } from '../translate/test-secrets.ts';
import { sumStats } from './support.ts';

const APP_HOST = 'vault.example';

/** Resolves once the TLS handshake completes (or rejects with its error). */
function handshake(opts: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect(opts, () => resolve(socket));
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
    socket.once('error', reject);
  });
}

/** Writes `text` and reads until the echo of it came back. */
function echo(socket: TLSSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.length >= text.length) resolve(got);
    });
    socket.once('error', reject);
    socket.write(text);
  });
}

describe("PERMISSIVE on a TCP port carrying the application's own TLS", () => {
  let mesh: CertificateAuthority;
  let appCa: CertificateAuthority;
  let app: Server;
  let envoy: EnvoyHandle;
  let inboundPort: number;
  let client: { cert: string; key: string };

  beforeAll(async () => {
    [mesh, appCa] = await Promise.all([testCa(), testCa()]);
    const serving = await appCa.issueServing({ dnsNames: [APP_HOST] });
    if (!serving.ok) throw new Error(serving.reason);
    app = createServer({ cert: serving.cert.chainPem, key: serving.cert.keyPem }, (s) => s.pipe(s));
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const appPort = (app.address() as { port: number }).port;
    const [inbound, outbound] = await freePorts(2);
    inboundPort = inbound as number;
    const model = buildModel(
      parseDocuments(`
apiVersion: v1
kind: Service
metadata: {name: vault, namespace: shop, annotations: {weft.dev/mtls: "true"}}
spec:
  selector: {app: vault}
  ports: [{name: tls-api, port: 8443, targetPort: ${appPort}}]
`),
    );
    const proxy = {
      id: 'vault',
      kind: 'sidecar',
      namespace: 'shop',
      service: 'vault',
      labels: { app: 'vault' },
      capture: false,
      inboundPort,
      identity: 'spiffe://cluster.local/ns/shop/sa/vault',
    } as const;
    const secrets = await workloadSecrets(mesh, 'shop', 'vault');
    const ports = { [EXPLICIT_INBOUND_LISTENER]: inboundPort, [EXPLICIT_OUTBOUND_LISTENER]: outbound as number };
    envoy = await startEnvoy({ bootstrapYaml: staticBootstrapYaml(translate(model, proxy), { secrets, listenerPorts: ports }) });
    const svid = await issueSvid(mesh, 'shop', 'client');
    client = { cert: svid.chainPem, key: svid.keyPem };
  });

  afterAll(async () => {
    await envoy?.stop();
    await new Promise((r) => app?.close(r));
  });

  const handshakes = async () => sumStats(await envoy.stats('ssl\\.handshake$'), /^listener\./);

  it("passes a client's own TLS through to the application untouched", async () => {
    const before = await handshakes();
    const socket = await handshake({ host: '127.0.0.1', port: inboundPort, servername: APP_HOST, ca: appCa.trustBundlePem });
    expect(socket.getPeerCertificate().subjectaltname).toContain(`DNS:${APP_HOST}`);
    expect(await echo(socket, 'ping')).toBe('ping');
    socket.destroy();
    expect(await handshakes()).toBe(before);
  });

  it("terminates mesh mTLS (mesh ALPN) and carries the application's TLS inside it", async () => {
    const before = await handshakes();
    const outer = await handshake({
      host: '127.0.0.1',
      port: inboundPort,
      ca: mesh.trustBundlePem,
      ...client,
      ALPNProtocols: [MESH_TCP_ALPN],
      checkServerIdentity: (_h, cert) => (cert.subjectaltname === 'URI:spiffe://cluster.local/ns/shop/sa/vault' ? undefined : new Error(cert.subjectaltname)),
    });
    const inner = await handshake({ socket: outer, servername: APP_HOST, ca: appCa.trustBundlePem });
    expect(await echo(inner, 'pong')).toBe('pong');
    inner.destroy();
    expect(await handshakes()).toBe(before + 1);
  });

  it('refuses the mesh ALPN without a client certificate', async () => {
    await expect(
      handshake({ host: '127.0.0.1', port: inboundPort, ca: mesh.trustBundlePem, ALPNProtocols: [MESH_TCP_ALPN], checkServerIdentity: () => undefined }).then(
        echoOnce,
      ),
    ).rejects.toThrow();
  });
});

/** TLS 1.3 reports a refused client certificate only on the first read. */
async function echoOnce(socket: TLSSocket): Promise<string> {
  try {
    return await echo(socket, 'x');
  } finally {
    socket.destroy();
  }
}
