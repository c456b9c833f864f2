// Root rotation in Kubernetes: two `weft controller` replicas (chart RBAC, a real API server)
// share the CA Secret; a meshed client Envoy is connected to one replica and a STRICT server
// Envoy to the other, so the leader can only finish by counting the other replica's ACK
// report. Two workers send requests through the mTLS hop for the whole rotation; the operator
// adds next.crt/next.key to the Secret. Asserted: 0 failed requests, both Envoys' SDS secrets
// chain to the new root only, and the Secret ends with the new material alone.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpMethod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa } from '../../src/ca/authority.ts';
import { splitCertificates } from '../../src/ca/pem.ts';
import { CA_FILE } from '../../src/identity/ca-dir.ts';
import { startBackend, type Backend } from '../../test/support/backends.ts';
import { startEnvoy, type EnvoyHandle } from '../../test/support/envoy.ts';
import { freePorts } from '../../test/support/free-port.ts';
import { weftBootstrap } from '../../test/support/weft-bootstrap.ts';
import { viaProxy } from '../../test/mtls/support.ts';
import { Api, peerAuth, type KubeObject } from './support/api.ts';
import { startController, type ControllerProcess } from './support/controller-process.ts';
import { controllerIdentity, installCrds, SCOPE_LABEL, sharedCluster } from './support/kube.ts';
import { controllerRbacYaml } from './support/rbac.ts';
import { tempNamespace, uniqueName } from '../support/kube.ts';

interface SecretJson {
  metadata: { annotations?: Record<string, string>; resourceVersion?: string };
  data: Record<string, string>;
}
interface Rotation {
  phase: string;
  proxies?: number;
  acked?: number;
  lagging?: string[];
  history?: { phase: string; ms?: number; proxies?: number }[];
}

const pem = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString('utf8');
const certs = (text: string) => splitCertificates(text).map((b) => new X509Certificate(b));

const scope = uniqueName('weft-rot');
const cleanups: (() => Promise<unknown>)[] = [];
const replicas: ControllerProcess[] = [];
const envoys: EnvoyHandle[] = [];
let api: Api;
let cpNs = '';
let app = '';
let backend: Backend | undefined;
let caDir = '';
let clientPort = 0;
const traffic = { sent: 0, failed: 0, errors: [] as string[], stop: false };
let workers: Promise<void>[] = [];

const secretPath = () => `/api/v1/namespaces/${cpNs}/secrets/weft-root-ca`;
const getSecret = () => api.client.request<SecretJson>(HttpMethod.GET, secretPath());

beforeAll(async () => {
  const env = await sharedCluster();
  await installCrds(env);
  api = new Api(env.kubeconfig);
  cpNs = await tempNamespace('weft-rot', { [SCOPE_LABEL]: scope });
  app = await tempNamespace('shop', { [SCOPE_LABEL]: scope });
  const identity = await controllerIdentity(env, cpNs, (await controllerRbacYaml(env, cpNs)).yaml);
  cleanups.push(identity.cleanup);
  const ports = await freePorts(3);
  clientPort = ports[0] as number;
  const inbound = ports[1] as number;
  backend = await startBackend({ name: 'pay' });
  // The API server refuses loopback endpoint addresses: this host's own address (the server
  // Envoy's inbound listener binds 0.0.0.0; the traffic never leaves the host).
  const hostIp = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  if (!hostIp) throw new Error('no non-loopback IPv4 address on this host');
  const objects = [
    {
      kind: 'Service',
      metadata: { name: 'pay', namespace: app, annotations: { 'weft.dev/mtls': 'true' } },
      spec: { selector: { app: 'pay' }, ports: [{ name: 'http', port: 8080, targetPort: backend.port, protocol: 'TCP' }] },
    },
    {
      kind: 'EndpointSlice',
      metadata: { name: 'pay-e2e', namespace: app, labels: { 'kubernetes.io/service-name': 'pay', 'endpointslice.kubernetes.io/managed-by': 'e2e.weft.dev' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [hostIp], conditions: { ready: true } }],
      ports: [{ name: 'http', port: inbound, protocol: 'TCP' }],
    },
    peerAuth(app, 'strict', 'STRICT'),
    {
      kind: 'BackendPolicy',
      metadata: { name: 'pay', namespace: app },
      spec: { targetRef: { kind: 'Service', name: 'pay' }, connectionPool: { maxRequestsPerConnection: 5 } },
    },
  ] as KubeObject[];
  for (const o of objects) await api.create(o);

  const args = ['--discovery-selector', `${SCOPE_LABEL}=${scope}`, '--lease-duration', '4s', '--renew-deadline', '3s', '--retry-period', '500ms'];
  args.push('--ca-rotation-soak', '2s');
  for (const id of ['rot-a', 'rot-b']) {
    replicas.push(await startController({ kubeconfig: identity.kubeconfig, namespace: cpNs, identity: id, secure: true, readyTimeoutMs: 120_000, args }));
  }
  // `weft bootstrap --ca-dir` from the Secret's material: each Envoy's client certificate.
  const secret = await getSecret();
  caDir = await mkdtemp(join(tmpdir(), 'weft-rot-ca-'));
  await writeFile(join(caDir, CA_FILE), pem(secret.data['tls.crt']) + pem(secret.data['tls.key']), { mode: 0o600 });
  const boot = (sa: string, replica: ControllerProcess, outbound: number, extra: string[] = []) =>
    weftBootstrap([
      ...['--namespace', app, '--xds-address', `127.0.0.1:${replica.xdsPort}`, '--admin-port', '0', '--ca-dir', caDir],
      ...['--node-id', sa, '--service', sa, '--service-account', sa, '--label', `app=${sa}`, '--outbound-port', String(outbound), ...extra],
    ]);
  const yamls = await Promise.all([
    boot('client', replicas[0]!, clientPort),
    boot('pay', replicas[1]!, ports[2] as number, ['--inbound-port', String(inbound)]),
  ]);
  envoys.push(...(await Promise.all(yamls.map((y) => startEnvoy({ bootstrapYaml: y })))));
  const deadline = Date.now() + 60_000;
  while (!((await viaProxy(clientPort, 'http://pay.' + app + ':8080/')) as { status?: number }).status) {
    if (Date.now() > deadline) throw new Error('the mesh never served a first request');
    await sleep(250);
  }
  const worker = async () => {
    while (!traffic.stop) {
      const o = await viaProxy(clientPort, `http://pay.${app}:8080/`);
      traffic.sent++;
      if (!o.ok || o.status !== 200) {
        traffic.failed++;
        if (traffic.errors.length < 20) traffic.errors.push(o.ok ? `status ${o.status}` : o.error);
      }
    }
  };
  workers = [worker(), worker()];
}, 240_000);

afterAll(async () => {
  traffic.stop = true;
  await Promise.all(workers);
  await Promise.all(envoys.map((e) => e.stop()));
  await Promise.all(replicas.map((r) => r.stop()));
  await backend?.stop();
  if (caDir) await rm(caDir, { recursive: true, force: true });
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('root rotation through the CA Secret, two controller replicas, two real Envoys', () => {
  it('rotates with 0 failed requests; the old root leaves both proxies and the Secret', async () => {
    const before = await getSecret();
    const oldRoot = certs(pem(before.data['tls.crt']))[0] as X509Certificate;
    const next = await createRootCa({ commonName: 'weft root CA 2' });
    const newRoot = certs(next.certPem)[0] as X509Certificate;
    const sentBefore = traffic.sent;
    const started = Date.now();
    await api.client.request(HttpMethod.PATCH, secretPath(), {
      body: { data: { 'next.crt': Buffer.from(next.certPem).toString('base64'), 'next.key': Buffer.from(next.keyPem).toString('base64') } },
      contentType: 'application/merge-patch+json',
    });
    const leaderStatus = async (): Promise<Rotation | undefined> => {
      for (const r of replicas) {
        const leader = await r.json<{ leader: boolean }>('/debug/leader').catch(() => undefined);
        if (leader?.leader) return (await r.json<{ rotation?: Rotation }>('/debug/identity')).rotation;
      }
      return undefined;
    };
    const seen: string[] = [];
    let last: Rotation | undefined;
    while (Date.now() - started < 120_000) {
      last = await leaderStatus();
      const line = `${last?.phase} ${last?.acked ?? '-'}/${last?.proxies ?? '-'}`;
      if (seen.at(-1) !== line) seen.push(line);
      if (last?.phase === 'done') break;
      await sleep(250);
    }
    const outputs = replicas.map((r) => r.output().slice(-3000)).join('\n---\n');
    expect(last?.phase, `${JSON.stringify(last)}\n${outputs}`).toBe('done');
    // The leader counted both proxies (one on each replica) before leaving each phase.
    expect(last?.history?.map((h) => [h.phase, h.proxies])).toEqual([
      ['trust', 2],
      ['sign', 2],
      ['retire', 2],
      ['done', undefined],
    ]);
    await sleep(1_000);
    const phases = Object.fromEntries((last?.history ?? []).map((h) => [h.phase, h.ms]));
    console.log(
      `[ca-rotation e2e] ${Date.now() - started} ms, phases (ms) ${JSON.stringify(phases)}, requests ${traffic.sent - sentBefore} during, ${traffic.failed} failed; statuses: ${seen.join(' → ')}`,
    );
    expect(traffic.failed, traffic.errors.join('\n')).toBe(0);

    for (const [i, envoy] of envoys.entries()) {
      const dump = JSON.parse(await envoy.admin('/config_dump?resource=dynamic_active_secrets')) as {
        configs: {
          name: string;
          secret: { validation_context?: { trusted_ca?: { inline_bytes?: string } }; tls_certificate?: { certificate_chain?: { inline_bytes?: string } } };
        }[];
      };
      const byName = new Map(dump.configs.map((c) => [c.name, c.secret]));
      const roots = certs(pem(byName.get('ROOTCA')?.validation_context?.trusted_ca?.inline_bytes));
      const leaf = certs(pem(byName.get('default')?.tls_certificate?.certificate_chain?.inline_bytes))[0] as X509Certificate;
      expect(
        roots.map((r) => r.fingerprint256),
        `envoy ${i}`,
      ).toEqual([newRoot.fingerprint256]);
      expect(leaf.verify(newRoot.publicKey)).toBe(true);
    }
    const after = await getSecret();
    expect(pem(after.data['tls.crt'])).toBe(next.certPem);
    expect(Object.keys(after.data).sort()).toEqual(['tls.crt', 'tls.key']);
    expect(Object.keys(after.metadata.annotations ?? {}).filter((k) => k.includes('rotation'))).toEqual([]);
    expect(certs(pem(after.data['tls.crt'])).some((c) => c.fingerprint256 === oldRoot.fingerprint256)).toBe(false);
  }, 180_000);
});
