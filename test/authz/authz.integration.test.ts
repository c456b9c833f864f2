// AuthorizationPolicy on real Envoys over real mTLS: two server proxies (explicit mode, from
// a static bootstrap of what translate builds, workload certificates from Weft's CA) front
// an HTTP app and a TCP echo app on loopback; callers are TLS clients holding SVIDs of
// different service accounts (real mesh peers as the server proxy sees them) and plaintext
// clients (PERMISSIVE, the default, lets them in). Policies (namespace shop):
//   default-deny  namespace-wide defaultAction: Deny
//   pay           allow checkout and legacy; allow unauthenticated callers on /public/*;
//                 deny legacy on /admin/*
//   pay-beta      dry run: deny checkout on /beta/*
//   db            allow checkout on the TCP port; deny legacy
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateAuthority } from '../../src/ca/authority.ts';
import { buildModel } from '../../src/model/build.ts';
import type { ProxyInfo } from '../../xds/resources/proxy.ts';
import { EXPLICIT_INBOUND_LISTENER, EXPLICIT_OUTBOUND_LISTENER } from '../../xds/resources/names.ts';
import { translate } from '../../xds/translate/index.ts';
import { MESH_TCP_ALPN } from '../../xds/translate/mtls.ts';
import { startBackend, type Backend } from '../support/backends.ts';
import { startEnvoy, type EnvoyHandle } from '../support/envoy.ts';
import { freePorts } from '../support/free-port.ts';
import { staticBootstrapYaml } from '../translate/static-bootstrap.ts';
import { parseDocuments } from '../translate/support.ts';
import { issueSvid, testCa, workloadSecrets } from '../translate/test-secrets.ts';
import { get, plainTcpEcho, tcpEcho, type Caller } from './support.ts';

function meshYaml(appPort: number, echoPort: number): string {
  return `
apiVersion: v1
kind: Service
metadata: {name: pay, namespace: shop, annotations: {weft.dev/mtls: "true"}}
spec: {selector: {app: pay}, ports: [{name: http, port: 8080, targetPort: ${appPort}}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop, annotations: {weft.dev/mtls: "true"}}
spec: {selector: {app: db}, ports: [{name: tcp-db, port: 5432, targetPort: ${echoPort}}]}
---
apiVersion: mesh.weft.dev/v1alpha1
kind: AuthorizationPolicy
metadata: {name: default-deny, namespace: shop}
spec: {defaultAction: Deny}
---
apiVersion: mesh.weft.dev/v1alpha1
kind: AuthorizationPolicy
metadata: {name: pay, namespace: shop}
spec:
  targetRef: {kind: Service, name: pay}
  allow:
    - from: {serviceAccounts: [shop/checkout, shop/legacy]}
    - from: {unauthenticated: true}
      to: {paths: [/public/*]}
  deny:
    - from: {serviceAccounts: [shop/legacy]}
      to: {paths: [/admin/*]}
---
apiVersion: mesh.weft.dev/v1alpha1
kind: AuthorizationPolicy
metadata: {name: pay-beta, namespace: shop}
spec:
  targetRef: {kind: Service, name: pay}
  dryRun: true
  deny: [{from: {serviceAccounts: [shop/checkout]}, to: {paths: [/beta/*]}}]
---
apiVersion: mesh.weft.dev/v1alpha1
kind: AuthorizationPolicy
metadata: {name: db, namespace: shop}
spec:
  targetRef: {kind: Service, name: db}
  allow: [{from: {serviceAccounts: [shop/checkout]}, to: {ports: [${echoPort}]}}]
  deny: [{from: {serviceAccounts: [shop/legacy]}}]
`;
}

const serverProxy = (sa: string, inboundPort: number): ProxyInfo => ({
  id: sa,
  kind: 'sidecar',
  namespace: 'shop',
  service: sa,
  labels: { app: sa },
  capture: false,
  inboundPort,
  identity: `spiffe://cluster.local/ns/shop/sa/${sa}`,
});

describe('AuthorizationPolicy between real mTLS peers and real Envoys', () => {
  let ca: CertificateAuthority;
  let app: Backend;
  let echo: Server;
  let appPort = 0;
  let echoPort = 0;
  let payPort = 0;
  let dbPort = 0;
  let payEnvoy: EnvoyHandle;
  const envoys: EnvoyHandle[] = [];
  const callers: Record<'checkout' | 'legacy' | 'nobody', Caller> = {} as never;

  beforeAll(async () => {
    ca = await testCa();
    app = await startBackend({ name: 'pay' });
    appPort = app.port;
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    echoPort = (echo.address() as { port: number }).port;
    const ports = (await freePorts(4)) as [number, number, number, number];
    [payPort, dbPort] = ports;
    const model = buildModel(parseDocuments(meshYaml(appPort, echoPort)));
    expect(model.statuses.filter((s) => s.conditions.some((c) => c.status !== 'True'))).toEqual([]);
    const start = async (sa: string, inbound: number, outbound: number) =>
      startEnvoy({
        bootstrapYaml: staticBootstrapYaml(translate(model, serverProxy(sa, inbound)), {
          secrets: await workloadSecrets(ca, 'shop', sa),
          listenerPorts: { [EXPLICIT_INBOUND_LISTENER]: inbound, [EXPLICIT_OUTBOUND_LISTENER]: outbound },
          nodeId: sa,
        }),
      });
    const [pay, db] = await Promise.all([start('pay', payPort, ports[2]), start('db', dbPort, ports[3])]);
    payEnvoy = pay;
    envoys.push(pay, db);
    for (const sa of ['checkout', 'legacy', 'nobody'] as const) {
      const svid = await issueSvid(ca, 'shop', sa);
      callers[sa] = { ca: ca.trustBundlePem, cert: svid.chainPem, key: svid.keyPem };
    }
  });

  afterAll(async () => {
    await Promise.all(envoys.map((e) => e.stop()));
    await new Promise((r) => echo?.close(r));
  });

  it('allows the allowed identity (200) and denies another (403, the body names the policy)', async () => {
    const before = app.requests;
    expect(await get(payPort, '/orders', callers.checkout)).toMatchObject({ ok: true, status: 200 });
    const denied = await get(payPort, '/orders', callers.nobody);
    expect(denied).toMatchObject({ ok: true, status: 403 });
    expect(denied.ok && denied.body).toBe('weft: access denied by AuthorizationPolicy (rbac_access_denied_matched_policy[none])\n');
    expect(app.requests).toBe(before + 1);
  });

  it('deny overrides allow: legacy is allowed everywhere but /admin/*', async () => {
    expect(await get(payPort, '/orders', callers.legacy)).toMatchObject({ ok: true, status: 200 });
    const denied = await get(payPort, '/admin/users', callers.legacy);
    expect(denied).toMatchObject({ ok: true, status: 403 });
    expect(denied.ok && denied.body).toContain('rbac_access_denied_matched_policy[shop/pay:deny[0]]');
    expect(await get(payPort, '/admin/users', callers.checkout)).toMatchObject({ ok: true, status: 200 });
  });

  it('default deny blocks a caller no rule names, on HTTP and TCP', async () => {
    expect(await get(payPort, '/', callers.nobody)).toMatchObject({ ok: true, status: 403 });
    expect(await tcpEcho(dbPort, 'hello', { ...callers.nobody, alpn: MESH_TCP_ALPN })).toEqual({ ok: false, error: 'closed' });
  });

  it('a plaintext caller under PERMISSIVE gets only what unauthenticated rules allow', async () => {
    expect(await get(payPort, '/public/logo.png')).toMatchObject({ ok: true, status: 200 });
    expect(await get(payPort, '/orders')).toMatchObject({ ok: true, status: 403 });
    // "Allow checkout and legacy" names identities: a caller without one never matches it.
    expect(await plainTcpEcho(dbPort, 'hello')).toEqual({ ok: false, error: 'closed' });
  });

  it('dry run denies nothing and counts what it would have denied (Envoy shadow stats)', async () => {
    // checkout calls over mTLS: the chain's stat prefix says so (inbound_<port>_mtls).
    const stat = `http.inbound_${appPort}_mtls.rbac.authz_deny.shadow_denied`;
    const count = async () => (await payEnvoy.stats('shadow_denied$')).get(stat) ?? -1;
    const before = await count();
    expect(before).toBeGreaterThanOrEqual(0);
    expect(await get(payPort, '/beta/feature', callers.checkout)).toMatchObject({ ok: true, status: 200 });
    expect(await get(payPort, '/beta/feature', callers.checkout)).toMatchObject({ ok: true, status: 200 });
    expect(await count()).toBe(before + 2);
    // Requests outside the dry-run rule are not counted.
    expect(await get(payPort, '/orders', callers.checkout)).toMatchObject({ ok: true, status: 200 });
    expect(await count()).toBe(before + 2);
    // What an operator graphs: the Prometheus form, the rule set in a tag.
    const prom = await payEnvoy.admin('/stats/prometheus');
    expect(prom).toContain(
      `envoy_http_rbac_shadow_denied{envoy_rbac_http_prefix="authz_deny",envoy_http_conn_manager_prefix="inbound_${appPort}_mtls"} ${before + 2}`,
    );
  });

  it('TCP: the allowed identity exchanges bytes; a denied one has its connection closed', async () => {
    expect(await tcpEcho(dbPort, 'hello', { ...callers.checkout, alpn: MESH_TCP_ALPN })).toEqual({ ok: true, echoed: 'hello' });
    expect(await tcpEcho(dbPort, 'hello', { ...callers.legacy, alpn: MESH_TCP_ALPN })).toEqual({ ok: false, error: 'closed' });
  });

  it('counts enforced verdicts in Envoy stats', async () => {
    const tcp = await (envoys[1] as EnvoyHandle).stats('rbac');
    // legacy (denied) and checkout (allowed) over mTLS; the plaintext caller on its own chain.
    expect(tcp.get(`inbound_${echoPort}_mtls.authz_deny.rbac.denied`)).toBeGreaterThan(0);
    expect(tcp.get(`inbound_${echoPort}_mtls.authz_allow.rbac.denied`)).toBeGreaterThan(0);
    expect(tcp.get(`inbound_${echoPort}_mtls.authz_allow.rbac.allowed`)).toBeGreaterThan(0);
    expect(tcp.get(`inbound_${echoPort}_plaintext.authz_allow.rbac.denied`)).toBeGreaterThan(0);
    const stats = await payEnvoy.stats('rbac');
    expect(stats.get(`http.inbound_${appPort}_mtls.rbac.authz_allow.denied`)).toBeGreaterThan(0);
    expect(stats.get(`http.inbound_${appPort}_mtls.rbac.authz_deny.denied`)).toBeGreaterThan(0);
    expect(stats.get(`http.inbound_${appPort}_plaintext.rbac.authz_allow.denied`)).toBeGreaterThan(0);
    expect(stats.get(`http.inbound_${appPort}_plaintext.rbac.authz_allow.allowed`)).toBeGreaterThan(0);
  });
});
