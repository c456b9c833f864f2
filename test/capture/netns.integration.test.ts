// The capture-mode (iptables-redirected) sidecar data path with real traffic. Two pods are
// two network namespaces on one veth pair (A 10.244.0.2, B 10.244.0.3); each runs the
// injection webhook's own capture script (src/capture/rules.ts) with real iptables and a real
// Envoy as uid 1337, bootstrapped as a captured sidecar with a client certificate for TLS
// xDS to `weft serve --ca-dir` in the root namespace (reached over a bridge, 10.250.N.1).
// Mesh: Service web.shop (clusterIP 10.96.0.10:8080, weft.dev/mtls) → 10.244.0.3:8080,
// PeerAuth STRICT namespace-wide. Packet path under test:
//   curl (A, root) → OUTPUT REDIRECT :15001 → virtualOutbound (original dst 10.96.0.10:8080)
//   → 0.0.0.0_8080 → route → outbound|8080||web.shop.svc.cluster.local → 10.244.0.3:8080 (mTLS)
//   → B PREROUTING REDIRECT :15006 → virtualInbound (STRICT chain) → inbound|8080|| → app b.
// Runs only as root with `ip netns` (CI does); elsewhere the suite is skipped with the reason.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caFromDir, issueClientCertificate } from '../../src/identity/ca-dir.ts';
import { MeshPorts } from '../../src/base/mesh-ports.ts';
import { captureScript } from '../../src/capture/rules.ts';
import { renderBootstrap } from '../../xds/bootstrap/bootstrap.ts';
import { envoyBinary } from '../support/envoy-binary.ts';
import { startWeftServe, type WeftServe } from '../support/weft-serve.ts';
import {
  createTopology,
  curlIn,
  envoyFor1337,
  inNs,
  netnsUnavailable,
  run,
  startNsEnvoy,
  sumStats,
  type CurlOutcome,
  type NsEnvoy,
  type Topology,
} from './support.ts';

const skipReason = netnsUnavailable();
if (skipReason) console.log(`test/capture/netns.integration.test.ts skipped: ${skipReason}`);

const backendScript = fileURLToPath(new URL('../../examples/backends/backend.ts', import.meta.url));
const SERVICE_IP = '10.96.0.10';
const SERVICE_URL = `http://${SERVICE_IP}:8080/`;
const OUTBOUND_CLUSTER = 'outbound|8080||web.shop.svc.cluster.local';

function meshYaml(endpointIp: string): string {
  return `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, annotations: {weft.dev/mtls: "true"}}
spec:
  clusterIP: ${SERVICE_IP}
  selector: {app: web}
  ports: [{name: http, port: 8080, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [${endpointIp}]}]
---
apiVersion: mesh.weft.dev/v1alpha1
kind: PeerAuth
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: STRICT}}
`;
}

async function until(what: string, ok: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const is200 = (o: CurlOutcome) => o.ok && o.status === 200;

describe.skipIf(skipReason !== undefined)('capture mode: real Envoys in network namespaces, iptables from the injection webhook', () => {
  let topo: Topology | undefined;
  let serve: WeftServe | undefined;
  let configDir = '';
  let caDir = '';
  let envoyA: NsEnvoy;
  let envoyB: NsEnvoy;
  let first: CurlOutcome = { ok: false, error: 'not run' };

  const diagnostics = async () => {
    const parts = await Promise.all(
      [envoyA, envoyB].filter(Boolean).map(async (e) => `--- envoy ${e.ns} ---\n${(await e.logs()).slice(-3000)}\n${e.proc.output().slice(-1000)}`),
    );
    return `${parts.join('\n')}\n--- weft serve ---\n${serve?.output().slice(-3000) ?? ''}`;
  };

  beforeAll(async () => {
    try {
      topo = await createTopology();
      const t = topo;
      [configDir, caDir] = await Promise.all([mkdtemp(join(tmpdir(), 'weft-capture-mesh-')), mkdtemp(join(tmpdir(), 'weft-capture-ca-'))]);
      t.defer(() => rm(configDir, { recursive: true, force: true }));
      t.defer(() => rm(caDir, { recursive: true, force: true }));
      await writeFile(join(configDir, 'mesh.yaml'), meshYaml(t.b.ip));

      // TLS xDS on the bridge address (serve refuses plaintext off loopback); the address is its SAN.
      serve = await startWeftServe({ configDir, extraArgs: ['--ca-dir', caDir, '--xds-address', `${t.rootIp}:0`] });
      const s = serve;
      t.defer(() => s.stop());
      const xdsAddress = `${t.rootIp}:${s.xdsAddress.slice(s.xdsAddress.lastIndexOf(':') + 1)}`;

      // Exactly what weft-init runs (defaults: no extra exclusions, IPv4 only).
      const script = captureScript({ excludeInboundPorts: [], excludeOutboundPorts: [], excludeOutboundCidrs: [], ipv6: false });
      await Promise.all([t.a, t.b].map((p) => run('ip', inNs(p.ns, ['sh', '-ec', script]))));

      const loaded = await caFromDir(caDir, { trustDomain: 'cluster.local', create: false });
      if (!loaded.ok) throw new Error(loaded.error);
      const bootstrap = async (nodeId: string, sa: string, service?: string) => {
        const cert = await issueClientCertificate(loaded.ca, { namespace: 'shop', serviceAccount: sa, ttlMs: 3_600_000 });
        if (!cert.ok) throw new Error(cert.error);
        return renderBootstrap({
          nodeId,
          namespace: 'shop',
          ...(service ? { service } : {}),
          xdsAddress,
          adminPort: MeshPorts.admin,
          capture: true,
          labels: { app: service ?? sa },
          tls: { certChain: { inline: cert.cert.chainPem }, privateKey: { inline: cert.cert.keyPem }, trustedCa: { inline: cert.cert.trustBundlePem } },
        }).yaml;
      };
      const envoy = await envoyFor1337(t, envoyBinary());
      [envoyA, envoyB] = await Promise.all([
        bootstrap(`sleep-${t.tag}`, 'sleep').then((y) => startNsEnvoy(t, t.a.ns, envoy, y, MeshPorts.admin)),
        bootstrap(`web-${t.tag}`, 'web', 'web').then((y) => startNsEnvoy(t, t.b.ns, envoy, y, MeshPorts.admin)),
      ]);

      // App b (root uid, not 1337) on 8080, where inbound|8080|| forwards (127.0.0.1:8080).
      const app = t.spawnIn(t.b.ns, 'app b', [process.execPath, backendScript, '--name', 'b', '--port', '8080']);
      await until('app b listening', async () => {
        if (app.exited()) throw new Error(`app b exited: ${app.output()}`);
        return app.output().includes('listening');
      });

      // Listeners and clusters warm until their SDS secrets arrive: the first 200 proves both sides are live.
      await until('the first request through both sidecars', async () => is200((first = await curlIn(t.a.ns, SERVICE_URL))));
    } catch (err) {
      const why = topo ? await diagnostics().catch(() => '') : '';
      await topo?.cleanup();
      topo = undefined;
      throw new Error(`${(err as Error).message}\n${why}`, { cause: err });
    }
  }, 60_000);

  afterAll(async () => {
    await topo?.cleanup();
  });

  it('an app in pod A reaches web.shop by its clusterIP through both captured sidecars over mTLS', async () => {
    const t = topo!;
    expect(first).toMatchObject({ ok: true, status: 200, backend: 'b' });
    for (let i = 0; i < 3; i++) expect(await curlIn(t.a.ns, SERVICE_URL)).toMatchObject({ ok: true, status: 200, backend: 'b' });

    // Envoy A routed it: the outbound cluster for web answered 200s over TLS.
    const a = await envoyA.stats(`^cluster\\.${OUTBOUND_CLUSTER.replace(/\|/g, '\\|').replace(/\./g, '\\.')}\\.`);
    const aPrefix = `cluster.${OUTBOUND_CLUSTER}.`;
    expect(a.get(`${aPrefix}upstream_rq_200`) ?? 0, await diagnostics()).toBeGreaterThanOrEqual(4);
    expect(a.get(`${aPrefix}ssl.handshake`) ?? 0).toBeGreaterThanOrEqual(1);
    // Envoy B terminated it: mTLS handshakes on its inbound listener (15006), requests to the app.
    const b = await envoyB.stats('(ssl\\.handshake|upstream_rq_200)$');
    expect(sumStats(b, /^listener\.0\.0\.0\.0_15006\.ssl\.handshake$/), await diagnostics()).toBeGreaterThanOrEqual(1);
    expect(sumStats(b, /^cluster\.inbound\|8080\|\|.*upstream_rq_200$/)).toBeGreaterThanOrEqual(4);
  });

  it('STRICT: plaintext straight to pod B (uid 1337 in pod A bypasses capture) is refused', async () => {
    const t = topo!;
    const before = sumStats(await envoyB.stats('downstream_cx_total$'), /^listener\.0\.0\.0\.0_15006\./);
    const direct = await curlIn(t.a.ns, `http://${t.b.ip}:8080/`, 1337);
    expect(direct.ok, JSON.stringify(direct)).toBe(false);
    // It was B's sidecar that refused it (redirected to 15006), not an unreachable pod.
    const after = sumStats(await envoyB.stats('downstream_cx_total$'), /^listener\.0\.0\.0\.0_15006\./);
    expect(after).toBeGreaterThan(before);
  });

  it('neither sidecar rejected any xDS update', async () => {
    for (const e of [envoyA, envoyB]) {
      const rejected = [...(await e.stats('update_rejected$')).entries()].filter(([, v]) => v > 0);
      expect(rejected, `${e.ns}\n${await diagnostics()}`).toEqual([]);
    }
  });
});
