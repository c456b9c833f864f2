// The control-plane metrics `weft serve` does not have (the webhook's latency, the serving
// certificates' expiry) from the real components run in this process: the webhook server over
// HTTPS, its serving certificate from a Rotation, one injected Pod. This process's registry is
// then served on loopback for Prometheus, like the controller's /metrics.
import { createServer, type Server } from 'node:http';
import { Agent } from 'node:https';
import { metricsRegistry } from '../../src/base/metrics.ts';
import { Rotation } from '../../src/base/rotation.ts';
import { createRootCa, loadCa } from '../../src/ca/authority.ts';
import { startWebhookServer } from '../../webhook/server.ts';
import { podRequest, testContext } from '../webhook/fixtures.ts';
import { post } from '../webhook/https.ts';

export interface ControlPlaneMetrics {
  /** host:port serving /metrics. */
  readonly address: string;
  stop(): Promise<void>;
}

export async function startControlPlaneMetrics(): Promise<ControlPlaneMetrics> {
  const loaded = loadCa(await createRootCa(), { trustDomain: 'cluster.local' });
  if (!loaded.ok) throw new Error('test CA');
  const ca = loaded.ca;
  const rotation = new Rotation<{ cert: string; key: string; notAfter: Date }>({
    issue: async () => {
      const r = await ca.issueServing({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
      if (!r.ok || !r.cert.keyPem) throw new Error('serving certificate');
      return { cert: r.cert.chainPem, key: r.cert.keyPem, notAfter: r.cert.notAfter };
    },
    notAfter: (c) => c.notAfter,
    install: () => {},
    onError: () => {},
    metricName: 'webhook-serving',
  });
  const tls = await rotation.rotate();
  const webhook = await startWebhookServer({ port: 0, host: '127.0.0.1', tls, injectCtx: () => testContext(), validate: () => ({ allowed: true }) });
  const agent = new Agent({ keepAlive: false, ca: ca.trustBundlePem });
  const pod = { metadata: { name: 'web', namespace: 'shop' }, spec: { containers: [{ name: 'app', image: 'x' }] } };
  for (let i = 0; i < 3; i++) {
    const review = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: podRequest(pod, 'shop', `uid-${i}`) });
    const r = await post(webhook.port, '/inject', review, agent);
    if (r.status !== 200) throw new Error(`webhook answered ${r.status}`);
  }
  const metrics: Server = createServer((_req, res) => {
    void metricsRegistry.metrics().then((text) => res.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(text));
  });
  await new Promise<void>((r) => metrics.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(metrics.address() as { port: number }).port}`,
    stop: async () => {
      rotation.stop();
      agent.destroy();
      await webhook.close();
      await new Promise<void>((r) => metrics.close(() => r()));
    },
  };
}
