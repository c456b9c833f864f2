// The webhook over real HTTPS on loopback: certificates from our CA, AdmissionReview in and
// out, malformed input answered 400 naming the field, TLS rotated without a restart.
import { request as httpsRequest, Agent } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { once } from 'node:events';
import fjp from 'fast-json-patch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa, loadCa, type CertificateAuthority } from '../../src/ca/authority.ts';
import { metricsRegistry } from '../../src/base/metrics.ts';
import { startWebhookServer, type WebhookServer } from '../../webhook/server.ts';
import { podRequest, testContext } from './fixtures.ts';
import { post } from './https.ts';

let ca: CertificateAuthority;
let server: WebhookServer;
let agent: Agent;

async function serving(): Promise<{ cert: string; key: string }> {
  const r = await ca.issueServing({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  if (!r.ok || !r.cert.keyPem) throw new Error('serving cert');
  return { cert: r.cert.chainPem, key: r.cert.keyPem };
}

function reviewBody(req: unknown): string {
  return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: req });
}

beforeAll(async () => {
  const r = loadCa(await createRootCa(), { trustDomain: 'cluster.local' });
  if (!r.ok) throw new Error('ca');
  ca = r.ca;
  agent = new Agent({ keepAlive: true, ca: ca.trustBundlePem, maxSockets: 4 });
  server = await startWebhookServer({
    port: 0,
    host: '127.0.0.1',
    tls: await serving(),
    injectCtx: () => testContext(),
    validate: (req) => (req.name === 'bad' ? { allowed: false, message: 'spec.backends[0].service: no such Service' } : { allowed: true }),
  });
});

afterAll(async () => {
  agent.destroy();
  await server.close();
});

const pod = { metadata: { name: 'web', namespace: 'shop' }, spec: { containers: [{ name: 'app', image: 'x' }] } };

describe('webhook server', () => {
  it('injects: echoes the uid and returns a base64 JSONPatch that applies', async () => {
    const { status, json } = await post(server.port, '/inject', reviewBody(podRequest(pod, 'shop', 'uid-1')), agent);
    expect(status).toBe(200);
    const res = (json as { response: { uid: string; allowed: boolean; patchType: string; patch: string } }).response;
    expect(res).toMatchObject({ uid: 'uid-1', allowed: true, patchType: 'JSONPatch' });
    const ops = JSON.parse(Buffer.from(res.patch, 'base64').toString()) as fjp.Operation[];
    const patched = fjp.applyPatch(structuredClone(pod), ops, true, false).newDocument;
    expect(patched.spec.containers.map((c) => c.name)).toEqual(['app']);
    expect((patched.spec as { initContainers?: { name: string }[] }).initContainers?.map((c) => c.name)).toEqual(['weft-init', 'weft-proxy']);
  });

  it('answers dry-run requests the same way (nothing is created either way)', async () => {
    const dry = await post(server.port, '/inject', reviewBody({ ...podRequest(pod, 'shop', 'uid-dry'), dryRun: true }), agent);
    const wet = await post(server.port, '/inject', reviewBody(podRequest(pod, 'shop', 'uid-dry')), agent);
    expect(dry.status).toBe(200);
    expect(dry.json).toEqual(wet.json);
  });

  it('skips without a patch', async () => {
    const { json } = await post(server.port, '/inject', reviewBody(podRequest(pod, 'plain', 'uid-2')), agent);
    expect((json as { response: unknown }).response).toEqual({ uid: 'uid-2', allowed: true });
  });

  it.each([
    ['truncated JSON', '{"apiVersion":"admission.k8s.io/v1","kind":"Adm', undefined],
    ['wrong apiVersion', JSON.stringify({ apiVersion: 'v1beta1', kind: 'AdmissionReview', request: { uid: 'u3' } }), 'apiVersion'],
    ['uid of the wrong type', reviewBody({ ...podRequest(pod), uid: 42 }), 'request.uid'],
    ['containers not a list', reviewBody(podRequest({ spec: { containers: 'app' } }, 'shop', 'u4')), 'request.object.spec.containers'],
  ])('answers %s with 400 naming the field', async (_name, body, field) => {
    const { status, json } = await post(server.port, '/inject', body, agent);
    expect(status).toBe(400);
    if (field) expect(JSON.stringify(json)).toContain(field);
  });

  it('echoes a valid uid even when the rest of the review is invalid', async () => {
    const { status, json } = await post(
      server.port,
      '/inject',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u5' } }),
      agent,
    );
    expect(status).toBe(400);
    expect((json as { response: { uid: string } }).response.uid).toBe('u5');
  });

  it('validates with the injected validator', async () => {
    const base = { uid: 'v1', kind: { group: 'mesh.weft.dev', version: 'v1alpha1', kind: 'TrafficSplit' }, operation: 'CREATE', namespace: 'shop', object: {} };
    const ok = await post(server.port, '/validate', reviewBody({ ...base, name: 'good' }), agent);
    expect((ok.json as { response: unknown }).response).toEqual({ uid: 'v1', allowed: true });
    const bad = await post(server.port, '/validate', reviewBody({ ...base, name: 'bad' }), agent);
    expect((bad.json as { response: unknown }).response).toMatchObject({
      allowed: false,
      status: { code: 422, message: expect.stringContaining('backends[0]') },
    });
  });

  it('exposes admission metrics', async () => {
    const text = await metricsRegistry.metrics();
    expect(text).toMatch(/weft_webhook_admissions_total\{[^}]*endpoint="inject"[^}]*result="injected"/);
    expect(text).toContain('weft_webhook_admission_duration_seconds_bucket');
  });

  it('serves /healthz', async () => {
    const res = await new Promise<number>((resolve, reject) =>
      httpsRequest({ host: '127.0.0.1', port: server.port, path: '/healthz', agent }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      })
        .on('error', reject)
        .end(),
    );
    expect(res).toBe(200);
  });

  it('rotates its certificate for new connections without restarting', async () => {
    const peerSerial = async (): Promise<string> => {
      const s = connect({ host: '127.0.0.1', port: server.port, ca: ca.trustBundlePem, servername: 'localhost' });
      await once(s, 'secureConnect');
      const serial = s.getPeerX509Certificate()?.serialNumber ?? '';
      s.destroy();
      return serial;
    };
    const before = await peerSerial();
    const next = await serving();
    server.setTls(next);
    expect(await peerSerial()).toBe(new X509Certificate(next.cert).serialNumber);
    expect(before).not.toBe(new X509Certificate(next.cert).serialNumber);
  });
});
