// PeerAuth in real Envoys: client Envoy (explicit mode) → server Envoy (explicit inbound
// listener) → app, all on loopback, one server per mode. Resources are what translate
// builds from one model; certificates are real SVIDs from Weft's CA, served as static
// secrets in place of SDS (static-bootstrap.ts). The meshed client's cluster decides per
// endpoint whether to originate mTLS (auto mTLS); the server's chains decide what it
// accepts.
//   STRICT      plaintext refused, TLS without a client certificate refused, the meshed
//               client gets 200 over mTLS (handshakes on both sides, the app sees it).
//   PERMISSIVE  plaintext and the meshed client (over mTLS) both get 200.
//   DISABLE     the meshed client does not originate TLS and gets 200; a TLS client fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateAuthority } from '../../src/ca/authority.ts';
import { buildModel } from '../../src/model/build.ts';
import type { MeshModel } from '../../src/model/types.ts';
import type { ProxyInfo } from '../../xds/proxy.ts';
import { EXPLICIT_OUTBOUND_LISTENER } from '../../xds/resources/names.ts';
import { EXPLICIT_INBOUND_LISTENER } from '../../xds/translate/inbound.ts';
import { translate } from '../../xds/translate/index.ts';
import { startBackend, type Backend } from '../support/backends.ts';
import { startEnvoy, type EnvoyHandle } from '../support/envoy.ts';
import { freePorts } from '../support/free-port.ts';
import { staticBootstrapYaml } from '../translate/static-bootstrap.ts';
import { parseDocuments } from '../translate/support.ts';
import { issueSvid, testCa, workloadSecrets } from '../translate/test-secrets.ts';
import { plaintext, sumStats, tls, viaProxy } from './support.ts';

const MODES = ['strict', 'permissive', 'disable'] as const;
type Mode = (typeof MODES)[number];

/** One Service per mode, fronted by its own server proxy; its one endpoint is that proxy's inbound port. */
function meshYaml(appPorts: Record<Mode, number>, inboundPorts: Record<Mode, number>): string {
  const services = MODES.map(
    (m) => `
apiVersion: v1
kind: Service
metadata: {name: pay-${m}, namespace: shop, annotations: {weft.dev/mtls: "true"}}
spec:
  selector: {app: pay-${m}}
  ports: [{name: http, port: 8080, targetPort: ${appPorts[m]}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: pay-${m}-1, namespace: shop, labels: {kubernetes.io/service-name: pay-${m}}}
addressType: IPv4
ports: [{name: http, port: ${inboundPorts[m]}}]
endpoints: [{addresses: [127.0.0.1]}]
`,
  );
  const policies = `
apiVersion: mesh.weft.dev/v1alpha1
kind: PeerAuth
metadata: {name: strict, namespace: shop}
spec: {selector: {matchLabels: {app: pay-strict}}, mtls: {mode: STRICT}}
---
apiVersion: mesh.weft.dev/v1alpha1
kind: PeerAuth
metadata: {name: disable, namespace: shop}
spec: {selector: {matchLabels: {app: pay-disable}}, mtls: {mode: DISABLE}}
`;
  // PERMISSIVE is the default: no policy selects pay-permissive.
  return [...services, policies].join('---\n');
}

const identity = (sa: string) => `spiffe://cluster.local/ns/shop/sa/${sa}`;

async function startProxy(model: MeshModel, ca: CertificateAuthority, proxy: ProxyInfo, ports: Record<string, number>): Promise<EnvoyHandle> {
  const secrets = await workloadSecrets(ca, proxy.namespace, proxy.id);
  return startEnvoy({ bootstrapYaml: staticBootstrapYaml(translate(model, proxy), { secrets, listenerPorts: ports, nodeId: proxy.id }) });
}

describe('PeerAuth between two real Envoys', () => {
  let ca: CertificateAuthority;
  let client: EnvoyHandle;
  let clientPort: number;
  const apps = {} as Record<Mode, Backend>;
  const servers = {} as Record<Mode, EnvoyHandle>;
  const inbound = {} as Record<Mode, number>;
  let impostor: { cert: string; key: string };
  let meshCert: { cert: string; key: string };

  beforeAll(async () => {
    ca = await testCa();
    const ports = await freePorts(1 + 2 * MODES.length);
    clientPort = ports[0] as number;
    MODES.forEach((m, i) => (inbound[m] = ports[1 + i] as number));
    for (const m of MODES) apps[m] = await startBackend({ name: m });
    const model = buildModel(
      parseDocuments(meshYaml({ strict: apps.strict.port, permissive: apps.permissive.port, disable: apps.disable.port }, inbound)),
    );
    const proxy = (sa: string, extra: Partial<ProxyInfo>): ProxyInfo => ({
      id: sa,
      kind: 'sidecar',
      namespace: 'shop',
      labels: { app: sa },
      capture: false,
      identity: identity(sa),
      ...extra,
    });
    // Four Envoys in parallel; each server's (unused) outbound proxy listener gets its own port too.
    const [c, ...started] = await Promise.all([
      startProxy(model, ca, proxy('client', {}), { [EXPLICIT_OUTBOUND_LISTENER]: clientPort }),
      ...MODES.map((m, i) =>
        startProxy(model, ca, proxy(`pay-${m}`, { service: `pay-${m}`, inboundPort: inbound[m] }), {
          [EXPLICIT_INBOUND_LISTENER]: inbound[m],
          [EXPLICIT_OUTBOUND_LISTENER]: ports[1 + MODES.length + i] as number,
        }),
      ),
    ]);
    client = c as EnvoyHandle;
    MODES.forEach((m, i) => (servers[m] = started[i] as EnvoyHandle));
    const svid = await issueSvid(ca, 'shop', 'curl');
    meshCert = { cert: svid.chainPem, key: svid.keyPem };
    const other = await issueSvid(await testCa(), 'shop', 'curl');
    impostor = { cert: other.chainPem, key: other.keyPem };
  });

  afterAll(async () => {
    await Promise.all([client?.stop(), ...MODES.map((m) => servers[m]?.stop())]);
  });

  const serverHandshakes = async (m: Mode) => sumStats(await servers[m].stats('ssl\\.handshake$'), /^listener\./);
  const clientHandshakes = async (m: Mode) =>
    sumStats(await client.stats('ssl\\.handshake$'), new RegExp(`^cluster\\.outbound\\|8080\\|\\|pay-${m}\\.`));

  it('STRICT: the meshed client gets 200 over mTLS; plaintext and certificate-less TLS are refused', async () => {
    const before = apps.strict.requests;
    expect(await viaProxy(clientPort, 'http://pay-strict.shop:8080/')).toEqual({ ok: true, status: 200, backend: 'strict' });
    expect(apps.strict.requests).toBe(before + 1);
    expect(await clientHandshakes('strict')).toBeGreaterThan(0);
    expect(await serverHandshakes('strict')).toBeGreaterThan(0);

    expect(await plaintext(inbound.strict)).toMatchObject({ ok: false });
    expect(await tls(inbound.strict, { ca: ca.trustBundlePem })).toMatchObject({ ok: false, error: expect.stringMatching(/CERTIFICATE_REQUIRED/) });
    // A certificate from another CA: same SAN shape, wrong trust bundle.
    expect(await tls(inbound.strict, { ca: ca.trustBundlePem, ...impostor })).toMatchObject({ ok: false, error: expect.stringMatching(/UNKNOWN_CA/) });
    expect(apps.strict.requests).toBe(before + 1);
    // A client holding a mesh certificate is accepted: the refusals above were about the peer.
    expect(await tls(inbound.strict, { ca: ca.trustBundlePem, ...meshCert })).toEqual({ ok: true, status: 200, backend: 'strict' });
  });

  it('PERMISSIVE: both the meshed client (over mTLS) and a plaintext client get 200', async () => {
    const handshakes = await serverHandshakes('permissive');
    expect(await viaProxy(clientPort, 'http://pay-permissive.shop:8080/')).toEqual({ ok: true, status: 200, backend: 'permissive' });
    expect(await serverHandshakes('permissive')).toBeGreaterThan(handshakes);
    expect(await clientHandshakes('permissive')).toBeGreaterThan(0);
    expect(await plaintext(inbound.permissive)).toEqual({ ok: true, status: 200, backend: 'permissive' });
    // TLS on an HTTP port is the mesh's: without a client certificate it is refused.
    expect(await tls(inbound.permissive, { ca: ca.trustBundlePem })).toMatchObject({ ok: false, error: expect.stringMatching(/CERTIFICATE_REQUIRED/) });
  });

  it('DISABLE: the meshed client does not originate TLS and gets 200; a TLS client fails', async () => {
    const before = apps.disable.requests;
    expect(await viaProxy(clientPort, 'http://pay-disable.shop:8080/')).toEqual({ ok: true, status: 200, backend: 'disable' });
    expect(await plaintext(inbound.disable)).toEqual({ ok: true, status: 200, backend: 'disable' });
    expect(apps.disable.requests).toBe(before + 2);
    expect(await clientHandshakes('disable')).toBe(0);
    expect(await tls(inbound.disable, { ca: ca.trustBundlePem, ...meshCert })).toMatchObject({ ok: false });
    expect(await serverHandshakes('disable')).toBe(0);
  });
});
