// The controller's webhook wiring without a cluster: the serving certificate comes from the
// mesh CA (webhook Service names + 127.0.0.1), is renewed and swapped in without a restart,
// injection reads namespace labels from the cache it is given, and injection values are
// validated with every bad field named.
import { X509Certificate } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fjp from 'fast-json-patch';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ControllerContext } from '../../src/runtime/controller/run.ts';
import { loadInjectValues, webhookWiring } from '../../src/runtime/controller/webhook-wiring.ts';
import { KubeApiError } from '../../src/k8s/client.ts';
import { log } from '../../src/base/log.ts';
import { testCa } from '../translate/test-secrets.ts';
import { ManualClock } from '../support/manual-clock.ts';

function peer(port: number, ca: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca, servername: 'weft-webhook.weft-system.svc' }, () => {
      const raw = s.getPeerCertificate().raw;
      s.end();
      resolve(new X509Certificate(raw));
    });
    s.on('error', reject);
  });
}

async function review(port: number, ca: string, namespace: string): Promise<{ response: { patch?: string } }> {
  const body = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u1',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      namespace,
      operation: 'CREATE',
      object: { metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'x' }] } },
    },
  });
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/inject',
        method: 'POST',
        ca,
        servername: 'weft-webhook.weft-system.svc',
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(JSON.parse(text) as { response: { patch?: string } }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A client that answers only GET /version, as an API server of `gitVersion` would. */
function versionClient(gitVersion: string | Error): { request: (method: string, path: string) => Promise<unknown> } {
  return {
    request: async (_method, path) => {
      if (path !== '/version') throw new KubeApiError(404, 'NotFound', 'not found');
      if (gitVersion instanceof Error) throw gitVersion;
      const [major = '', minor = ''] = gitVersion.slice(1).split('.');
      return { major, minor, gitVersion };
    },
  };
}

function patchedPod(patch: string | undefined): { spec: { containers: { name: string }[]; initContainers?: { name: string; restartPolicy?: string }[] } } {
  const ops = JSON.parse(Buffer.from(patch ?? '', 'base64').toString()) as fjp.Operation[];
  return fjp.applyPatch({ metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'x' }] } }, ops, true, false).newDocument as never;
}

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('webhookWiring', () => {
  it('serves a CA-issued certificate for the Service names and 127.0.0.1, renews it in place, and injects by cached namespace labels', async () => {
    const ca = await testCa();
    const values = await loadInjectValues(undefined, { namespace: 'weft-system', trustBundlePem: ca.trustBundlePem });
    const clock = new ManualClock(); // the rotation's time only: the HTTPS server runs on real timers
    const w = webhookWiring({
      host: '127.0.0.1',
      port: 0,
      ca,
      values,
      serviceName: 'weft-webhook',
      namespace: 'weft-system',
      servingTtlMs: 3_000,
      configurations: [],
      clock,
      log,
    });
    const labels: Record<string, Record<string, string>> = { shop: { 'weft.dev/inject': 'enabled' } };
    const ctx = {
      client: versionClient('v1.37.2'),
      index: { namespaceLabels: (ns: string) => labels[ns] },
      source: { state: () => ({ objects: [], problems: [], workloads: [] }), inScope: () => true },
      namespace: 'weft-system',
      isLeader: () => true,
      leader: undefined,
      log,
    } as unknown as ControllerContext;
    const closer = await w.extension(ctx);
    try {
      const port = w.port() ?? 0;
      const first = await peer(port, ca.trustBundlePem);
      expect(first.subjectAltName).toBe(
        'DNS:weft-webhook, DNS:weft-webhook.weft-system, DNS:weft-webhook.weft-system.svc, DNS:weft-webhook.weft-system.svc.cluster.local, IP Address:127.0.0.1',
      );
      expect(first.checkIssued(new X509Certificate(ca.trustBundlePem))).toBe(true);
      const injected = patchedPod((await review(port, ca.trustBundlePem, 'shop')).response.patch);
      expect(injected.spec.initContainers?.map((c) => [c.name, c.restartPolicy])).toEqual([
        ['weft-init', undefined],
        ['weft-proxy', 'Always'],
      ]);
      expect((await review(port, ca.trustBundlePem, 'elsewhere')).response.patch).toBeUndefined();
      // Renewal at about half of 3 s (1.2–1.8 s with jitter): the listener keeps running and
      // serves the new certificate.
      clock.advance(1_100);
      expect(clock.pending).toBe(1); // the renewal timer, not yet due
      clock.advance(800);
      expect(clock.pending).toBe(0); // fired: issuing
      await vi.waitFor(() => expect(w.status().serving?.serial).not.toBe(first.serialNumber), { timeout: 5_000 });
      const second = await peer(port, ca.trustBundlePem);
      expect(second.serialNumber).not.toBe(first.serialNumber);
      expect(w.status().serving?.serial).toBe(second.serialNumber);
    } finally {
      await closer?.close();
    }
  });

  it('removes its leader listener when closed', async () => {
    const ca = await testCa();
    const values = await loadInjectValues(undefined, { namespace: 'weft-system', trustBundlePem: ca.trustBundlePem });
    const w = webhookWiring({
      host: '127.0.0.1',
      port: 0,
      ca,
      values,
      serviceName: 'weft-webhook',
      namespace: 'weft-system',
      configurations: [{ kind: 'mutating', name: 'weft-inject' }],
      log,
    });
    const leader = new EventEmitter();
    const client = {
      request: async (_method: string, path: string) => {
        if (path === '/version') return { major: '1', minor: '37', gitVersion: 'v1.37.2' };
        throw new KubeApiError(404, 'NotFound', 'not found');
      },
      stream: async () => {
        throw new KubeApiError(0, 'NetworkError', 'no watch here');
      },
    };
    const ctx = {
      client,
      index: { namespaceLabels: () => undefined },
      source: { state: () => ({ objects: [], problems: [], workloads: [] }), inScope: () => true },
      namespace: 'weft-system',
      isLeader: () => true,
      leader,
      log,
    } as unknown as ControllerContext;
    const before = leader.listenerCount('started');
    const closer = await w.extension(ctx);
    expect(leader.listenerCount('started')).toBe(before + 1);
    await closer?.close();
    expect(leader.listenerCount('started')).toBe(before);
  });

  it.each([
    ['v1.37.2', 'auto', 'native'],
    ['v1.29.0-gke.1', 'auto', 'native'],
    ['v1.28.9', 'auto', 'container'],
    [new Error('connection refused'), 'auto', 'container'],
    ['v1.28.9', 'native', 'native'],
    ['v1.37.2', 'container', 'container'],
  ] as const)(
    'learns the API server version once: %s with sidecarMode %s injects the %s shape',
    async (version, sidecarMode, shape) => {
      const ca = await testCa();
      const dir = await mkdtemp(join(tmpdir(), 'weft-values-'));
      dirs.push(dir);
      await writeFile(join(dir, 'values.json'), JSON.stringify({ sidecarMode }));
      const values = await loadInjectValues(join(dir, 'values.json'), { namespace: 'weft-system', trustBundlePem: ca.trustBundlePem });
      const w = webhookWiring({ host: '127.0.0.1', port: 0, ca, values, serviceName: 'weft-webhook', namespace: 'weft-system', configurations: [], log });
      let versionReads = 0;
      const client = versionClient(version);
      const ctx = {
        client: { request: (m: string, p: string) => (p === '/version' && versionReads++, client.request(m, p)) },
        index: { namespaceLabels: () => ({ 'weft.dev/inject': 'enabled' }) },
        source: { state: () => ({ objects: [], problems: [], workloads: [] }), inScope: () => true },
        namespace: 'weft-system',
        isLeader: () => true,
        leader: undefined,
        log,
      } as unknown as ControllerContext;
      const closer = await w.extension(ctx);
      try {
        for (let i = 0; i < 2; i++) {
          const pod = patchedPod((await review(w.port() ?? 0, ca.trustBundlePem, 'shop')).response.patch);
          const where = pod.spec.containers.some((c) => c.name === 'weft-proxy')
            ? 'container'
            : pod.spec.initContainers?.some((c) => c.name === 'weft-proxy' && c.restartPolicy === 'Always')
              ? 'native'
              : 'none';
          expect(where).toBe(shape);
        }
        // Read at start only (three tries when it fails), never per admission.
        expect(versionReads).toBe(sidecarMode !== 'auto' ? 0 : version instanceof Error ? 3 : 1);
      } finally {
        await closer?.close();
      }
    },
    20_000,
  );

  it('loadInjectValues: the chart file plus the CA bundle; every bad field named', async () => {
    const ca = await testCa();
    const dir = await mkdtemp(join(tmpdir(), 'weft-values-'));
    dirs.push(dir);
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify({ xdsAddress: 'weft.mesh.svc:15012', proxyLogLevel: 'info' }));
    const v = await loadInjectValues(good, { namespace: 'mesh', trustBundlePem: ca.trustBundlePem });
    expect(v).toMatchObject({ xdsAddress: 'weft.mesh.svc:15012', controlPlaneNamespace: 'mesh', trustBundlePem: ca.trustBundlePem, proxyLogLevel: 'info' });
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ xdsAddress: 'no port', proxyLogLevel: 'loud', surprise: 1 }));
    const err = await loadInjectValues(bad, { namespace: 'mesh', trustBundlePem: ca.trustBundlePem }).then(
      () => '',
      (e: Error) => e.message,
    );
    for (const field of ['xdsAddress: must be HOST:PORT', 'proxyLogLevel: ', 'Unrecognized key: "surprise"']) expect(err).toContain(field);
    await expect(loadInjectValues(join(dir, 'missing.json'), { namespace: 'mesh', trustBundlePem: ca.trustBundlePem })).rejects.toThrow(
      /--inject-values .*missing\.json: ENOENT/,
    );
  });
});
