// Proof that an injected sidecar answers the app's liveness probe with no control plane, and
// that its readiness still means "has config". One pod (a network namespace) runs a real
// app and a real Envoy (uid 1337) started from the bootstrap the webhook injected, exactly
// as in the pod spec except the token path (a temp file instead of the kubelet's projected
// volume). The test plays the kubelet: it probes the pod's address on the readiness port
// from the root namespace, at the paths the webhook rewrote the app's probes to.
//  1. No control plane (nothing listens on the xDS address): after the bounded initial
//     fetches, the liveness path answers with the app's own status — 200 while the app is
//     healthy, 500 while it reports unhealthy — and /healthz/ready (the proxy's readiness)
//     stays 503.
//  2. The real control plane (translation, TLS xDS, token authentication) starts on that
//     address: readiness turns 200 once Envoy has its config.
//  3. The control plane stops again: readiness and liveness stay 200 (config is kept).
// Runs only as root with `ip netns` (CI does); elsewhere the suite is skipped with the reason.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createRootCa, loadCa } from '../../src/ca/authority.ts';
import { FileSource } from '../../src/sources/file-source.ts';
import { startControlPlane, type ControlPlane } from '../../src/runtime/control-plane.ts';
import { createXdsSecurity, type XdsSecurity } from '../../src/runtime/xds-security.ts';
import { MeshPorts, PROXY_UID } from '../../src/base/mesh-ports.ts';
import { injectPod } from '../../webhook/inject.ts';
import type { Container } from '../../webhook/pod.ts';
import { parseInjectValues, TOKEN_PATH } from '../../webhook/values.ts';
import { SIDECAR_INITIAL_FETCH_TIMEOUT_MS } from '../../xds/bootstrap/sidecar.ts';
import { createTopology, envoyFor1337, inNs, netnsUnavailable, run, type Topology } from '../capture/support.ts';
import { newIssuer } from '../identity/support.ts';
import { envoyBinary } from '../support/envoy-binary.ts';
import { freePorts } from '../support/free-port.ts';

const skipReason = netnsUnavailable();
if (skipReason) console.log(`test/bootstrap/probes-without-control-plane.integration.test.ts skipped: ${skipReason}`);

// The app: /healthz is 200 unless the file `unhealthy` exists next to it; /ready always 200.
const APP = `
const { existsSync } = require('node:fs');
const flag = process.argv[1];
require('node:http').createServer((req, res) => {
  if (req.url === '/healthz') { res.statusCode = existsSync(flag) ? 500 : 200; res.end(res.statusCode === 200 ? 'alive' : 'sick'); return; }
  if (req.url === '/ready') { res.end('ready'); return; }
  res.statusCode = 404; res.end();
}).listen(8080, '127.0.0.1');
`;

const POD = {
  metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' } },
  spec: {
    serviceAccountName: 'web',
    containers: [
      {
        name: 'app',
        image: 'example/web:1',
        ports: [{ name: 'http', containerPort: 8080 }],
        livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 3 },
        readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
      },
    ],
  },
};

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, diagnostics: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${await diagnostics()}`);
    await sleep(250);
  }
}

describe.skipIf(skipReason !== undefined)('sidecar probes without a control plane (real Envoy, injected bootstrap)', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  it('serves liveness from the app alone and readiness only with config', async () => {
    const topo: Topology = await createTopology();
    cleanups.push(() => topo.cleanup());
    const pod = topo.a;
    const ca = loadCa(await createRootCa(), { trustDomain: 'cluster.local' });
    if (!ca.ok) throw new Error('ca');
    const [xdsPort = 0] = await freePorts(1);
    const xdsAddress = `${topo.rootIp}:${xdsPort}`;

    // What the webhook injects for this Pod (native shape; the bootstrap is the same in both).
    const values = parseInjectValues({ trustBundlePem: ca.ca.trustBundlePem, xdsAddress });
    if (!values.ok) throw new Error(values.errors.join('; '));
    const injected = injectPod(structuredClone(POD), 'shop', { values: values.values, namespaceLabels: () => ({ 'weft.dev/inject': 'enabled' }) });
    if (!('pod' in injected)) throw new Error(JSON.stringify(injected));
    const proxy = injected.pod.spec.initContainers?.find((c) => c.name === 'weft-proxy') as
      (Container & { args: string[]; restartPolicy?: string }) | undefined;
    const app = injected.pod.spec.containers.find((c) => c.name === 'app') as Container;
    expect(proxy?.restartPolicy).toBe('Always');
    const liveness = app.livenessProbe?.httpGet;
    const readiness = app.readinessProbe?.httpGet;
    expect(liveness).toEqual({ path: '/app-health/app/livez', port: MeshPorts.readiness, scheme: 'HTTP' });
    expect(readiness).toEqual({ path: '/app-health/app/readyz', port: MeshPorts.readiness, scheme: 'HTTP' });
    const proxyReady = (proxy as { startupProbe?: { httpGet?: { path?: string } } }).startupProbe?.httpGet?.path;
    expect(proxyReady).toBe('/healthz/ready');
    const args = proxy?.args ?? [];
    const tokenPath = join(topo.dir, 'token');
    const bootstrap = (args[args.indexOf('--config-yaml') + 1] ?? '').replace(TOKEN_PATH, tokenPath);
    expect(bootstrap).toContain(tokenPath);

    const issuer = newIssuer();
    await writeFile(tokenPath, issuer.token({ namespace: 'shop', serviceAccount: 'web', pod: { name: 'web-1', uid: 'uid-web-1' } }), { mode: 0o644 });
    const flag = join(topo.dir, 'unhealthy');
    const appProc = topo.spawnIn(pod.ns, 'app', [process.execPath, '-e', APP, flag]);
    const envoyPath = await envoyFor1337(topo, envoyBinary());
    const config = join(topo.dir, 'bootstrap.yaml');
    await writeFile(config, bootstrap, { mode: 0o644 });
    const logPath = join(topo.dir, 'envoy.log');
    await writeFile(logPath, '');
    await chmod(logPath, 0o666); // Envoy runs as uid 1337 and cannot create files in topo.dir
    const startedAt = Date.now();
    const envoy = topo.spawnIn(
      pod.ns,
      'envoy',
      [envoyPath, '-c', config, '--service-node', 'web-1.shop', '--disable-hot-restart', '--concurrency', '1', '--log-path', logPath, '-l', 'info'],
      PROXY_UID,
    );

    const kubelet = async (path: string): Promise<number | 'no answer'> => {
      try {
        return (await fetch(`http://${pod.linkIp}:${MeshPorts.readiness}${path}`, { signal: AbortSignal.timeout(2_000) })).status;
      } catch {
        return 'no answer';
      }
    };
    let cp: ControlPlane | undefined;
    const diagnostics = async () => {
      const envoyLog = await run('tail', ['-c', '4000', logPath]).catch(() => '');
      return `--- envoy ---\n${envoy.output()}\n${envoyLog}\n--- app ---\n${appProc.output()}`;
    };

    // 1. No control plane. The static listener opens once CDS and LDS have timed out.
    const firstAnswer = await until(
      'the liveness path to answer',
      async () => {
        if (envoy.exited()) throw new Error(`envoy exited\n${await diagnostics()}`);
        const s = await kubelet(liveness?.path ?? '');
        return s === 'no answer' ? undefined : { status: s, afterMs: Date.now() - startedAt };
      },
      4 * SIDECAR_INITIAL_FETCH_TIMEOUT_MS + 10_000,
      diagnostics,
    );
    console.info(`[probes] liveness answered ${firstAnswer.afterMs} ms after Envoy started, with no control plane`);
    expect(firstAnswer.status).toBe(200);
    expect(firstAnswer.afterMs).toBeLessThan(2 * SIDECAR_INITIAL_FETCH_TIMEOUT_MS + 8_000);
    expect(await kubelet(readiness?.path ?? '')).toBe(200);
    await writeFile(flag, '');
    expect(await kubelet(liveness?.path ?? '')).toBe(500);
    await rm(flag);
    expect(await kubelet(liveness?.path ?? '')).toBe(200);
    // The proxy itself is not ready: it has no config, and stays so however long it waits.
    for (let i = 0; i < 3; i++) {
      expect(await kubelet('/healthz/ready')).toBe(503);
      await sleep(1_000);
    }

    // 2. The control plane comes up on the address the sidecar dials.
    const configDir = await mkdtemp(join(tmpdir(), 'weft-probes-mesh-'));
    cleanups.push(() => rm(configDir, { recursive: true, force: true }));
    const sec: XdsSecurity = await createXdsSecurity({
      ca: ca.ca,
      tokens: {
        podLookup: (ns, name) => (ns === 'shop' && name === 'web-1' ? { uid: 'uid-web-1', serviceAccount: 'web' } : undefined),
        jwks: { fetch: async () => issuer.jwks, issuer: issuer.issuer },
      },
      serving: { dnsNames: ['localhost'], ipAddresses: [topo.rootIp, '127.0.0.1'] },
    });
    cleanups.push(async () => sec.close());
    cp = await startControlPlane({
      source: new FileSource(configDir),
      xdsAddress,
      xdsCredentials: sec.credentials,
      authenticate: sec.authenticate,
      secrets: sec,
    });
    const plane = cp;
    cleanups.push(() => plane.close());
    const cpAt = Date.now();
    await until('the proxy to be ready', async () => ((await kubelet('/healthz/ready')) === 200 ? true : undefined), 90_000, diagnostics);
    console.info(`[probes] proxy ready ${Date.now() - cpAt} ms after the control plane started (Envoy's reconnect backoff)`);
    expect(await kubelet(liveness?.path ?? '')).toBe(200);

    // 3. The control plane goes away again: the proxy keeps its config and stays ready.
    await cp.close();
    cp = undefined;
    await sleep(2_000);
    expect(await kubelet('/healthz/ready')).toBe(200);
    expect(await kubelet(liveness?.path ?? '')).toBe(200);
    // Draining (Envoy failing its health checks) makes it unready at once.
    await run('ip', inNs(pod.ns, ['curl', '-sS', '--fail', '-X', 'POST', `http://127.0.0.1:${MeshPorts.admin}/healthcheck/fail`]));
    expect(await kubelet('/healthz/ready')).toBe(503);
    expect(await kubelet(liveness?.path ?? '')).toBe(200);
  }, 180_000);
});
