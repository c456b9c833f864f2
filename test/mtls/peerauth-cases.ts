// The PeerAuth scenario shared by the real-Envoy tests: one Service per mode, each fronted
// by its own server proxy (explicit mode, inbound listener on its own port, app behind it on
// loopback), and one meshed client proxy (explicit HTTP proxy). The cases run against
// whatever setup delivered the Envoys and their certificates (static secrets or real SDS).
//   STRICT      plaintext refused, TLS without a client certificate or with a foreign one
//               refused, the meshed client gets 200 over mTLS (handshakes on both sides).
//   PERMISSIVE  plaintext and the meshed client (over mTLS) both get 200.
//   DISABLE     the meshed client does not originate TLS and gets 200; a TLS client fails.
import { expect, it } from 'vitest';
import type { ProxyInfo } from '../../xds/resources/proxy.ts';
import type { Backend } from '../support/backends.ts';
import type { EnvoyHandle } from '../support/envoy.ts';
import { plaintext, sumStats, tls, viaProxy } from './support.ts';
import type { CertificateAuthority } from '../../src/ca/authority.ts';
import { issueSvid, testCa } from '../translate/test-secrets.ts';

export const MODES = ['strict', 'permissive', 'disable'] as const;
export type Mode = (typeof MODES)[number];

/** Config documents: the Services, their endpoints (the server proxies' inbound ports) and the policies. */
export function meshYaml(appPorts: Readonly<Record<Mode, number>>, inboundPorts: Readonly<Record<Mode, number>>): string {
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
  // PERMISSIVE is the default: no policy selects pay-permissive.
  return [...services, peerAuthYaml('strict', 'pay-strict', 'STRICT'), peerAuthYaml('disable', 'pay-disable', 'DISABLE')].join('---\n');
}

export function peerAuthYaml(name: string, app: string, mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE'): string {
  return `
apiVersion: mesh.weft.dev/v1alpha1
kind: PeerAuth
metadata: {name: ${name}, namespace: shop}
spec: {selector: {matchLabels: {app: ${app}}}, mtls: {mode: ${mode}}}
`;
}

/** The proxies' ProxyInfo: what their node metadata and certificates say. */
export function clientProxy(extra: Partial<ProxyInfo> = {}): ProxyInfo {
  return { id: 'client', kind: 'sidecar', namespace: 'shop', labels: { app: 'client' }, capture: false, identity: identity('client'), ...extra };
}
export function serverProxy(m: Mode, inboundPort: number, extra: Partial<ProxyInfo> = {}): ProxyInfo {
  const sa = `pay-${m}`;
  return { id: sa, kind: 'sidecar', namespace: 'shop', service: sa, labels: { app: sa }, capture: false, identity: identity(sa), inboundPort, ...extra };
}
export const identity = (sa: string) => `spiffe://cluster.local/ns/shop/sa/${sa}`;

export interface PeerAuthEnv {
  readonly client: EnvoyHandle;
  /** The client's explicit HTTP proxy port. */
  readonly clientPort: number;
  readonly servers: Readonly<Record<Mode, EnvoyHandle>>;
  readonly inbound: Readonly<Record<Mode, number>>;
  readonly apps: Readonly<Record<Mode, Backend>>;
  readonly trustBundlePem: string;
  /** A certificate from the mesh CA (a client holding one is a mesh peer). */
  readonly meshCert: { readonly cert: string; readonly key: string };
  /** A certificate of the same shape from another CA. */
  readonly foreignCert: { readonly cert: string; readonly key: string };
}

/** Assembles the env from started proxies; issues the mesh and foreign client certificates. */
export async function peerAuthEnv(
  ca: CertificateAuthority,
  parts: { client: EnvoyHandle; clientPort: number; servers: readonly EnvoyHandle[]; inbound: Record<Mode, number>; apps: Record<Mode, Backend> },
): Promise<PeerAuthEnv> {
  const [mesh, foreign] = await Promise.all([issueSvid(ca, 'shop', 'curl'), issueSvid(await testCa(), 'shop', 'curl')]);
  return {
    client: parts.client,
    clientPort: parts.clientPort,
    servers: Object.fromEntries(MODES.map((m, i) => [m, parts.servers[i]])) as PeerAuthEnv['servers'],
    inbound: parts.inbound,
    apps: parts.apps,
    trustBundlePem: ca.trustBundlePem,
    meshCert: { cert: mesh.chainPem, key: mesh.keyPem },
    foreignCert: { cert: foreign.chainPem, key: foreign.keyPem },
  };
}

/** Registers the cases; `env()` is read when they run (after the caller's beforeAll). */
export function peerAuthCases(env: () => PeerAuthEnv): void {
  const serverHandshakes = async (m: Mode) => sumStats(await env().servers[m].stats('ssl\\.handshake$'), /^listener\./);
  const clientHandshakes = async (m: Mode) => sumStats(await env().client.stats('ssl\\.handshake$'), new RegExp(`^cluster\\.outbound\\|8080\\|\\|pay-${m}\\.`));

  it('STRICT: the meshed client gets 200 over mTLS; plaintext and certificate-less or foreign TLS are refused', async () => {
    const { apps, clientPort, inbound, trustBundlePem: ca, meshCert, foreignCert } = env();
    const before = apps.strict.requests;
    expect(await viaProxy(clientPort, 'http://pay-strict.shop:8080/')).toEqual({ ok: true, status: 200, backend: 'strict' });
    expect(apps.strict.requests).toBe(before + 1);
    expect(await clientHandshakes('strict')).toBeGreaterThan(0);
    expect(await serverHandshakes('strict')).toBeGreaterThan(0);

    expect(await plaintext(inbound.strict)).toMatchObject({ ok: false });
    expect(await tls(inbound.strict, { ca })).toMatchObject({ ok: false, error: expect.stringMatching(/CERTIFICATE_REQUIRED/) });
    expect(await tls(inbound.strict, { ca, ...foreignCert })).toMatchObject({ ok: false, error: expect.stringMatching(/UNKNOWN_CA/) });
    expect(apps.strict.requests).toBe(before + 1);
    // A client holding a mesh certificate is accepted: the refusals above were about the peer.
    expect(await tls(inbound.strict, { ca, ...meshCert })).toEqual({ ok: true, status: 200, backend: 'strict' });
  });

  it('PERMISSIVE: both the meshed client (over mTLS) and a plaintext client get 200', async () => {
    const { clientPort, inbound, trustBundlePem: ca } = env();
    expect(await viaProxy(clientPort, 'http://pay-permissive.shop:8080/')).toEqual({ ok: true, status: 200, backend: 'permissive' });
    // (The client may reuse a connection an earlier request opened: count every handshake.)
    expect(await serverHandshakes('permissive')).toBeGreaterThan(0);
    expect(await clientHandshakes('permissive')).toBeGreaterThan(0);
    expect(await plaintext(inbound.permissive)).toEqual({ ok: true, status: 200, backend: 'permissive' });
    // TLS on an HTTP port is the mesh's: without a client certificate it is refused.
    expect(await tls(inbound.permissive, { ca })).toMatchObject({ ok: false, error: expect.stringMatching(/CERTIFICATE_REQUIRED/) });
  });

  it('DISABLE: the meshed client does not originate TLS and gets 200; a TLS client fails', async () => {
    const { apps, clientPort, inbound, trustBundlePem: ca, meshCert } = env();
    const before = apps.disable.requests;
    expect(await viaProxy(clientPort, 'http://pay-disable.shop:8080/')).toEqual({ ok: true, status: 200, backend: 'disable' });
    expect(await plaintext(inbound.disable)).toEqual({ ok: true, status: 200, backend: 'disable' });
    expect(apps.disable.requests).toBe(before + 2);
    expect(await clientHandshakes('disable')).toBe(0);
    expect(await tls(inbound.disable, { ca, ...meshCert })).toMatchObject({ ok: false });
    expect(await serverHandshakes('disable')).toBe(0);
  });
}
