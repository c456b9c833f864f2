// An injected sidecar's bootstrap (xds/bootstrap/sidecar.ts: google_grpc over TLS, the
// projected token read from its file on every stream) in a real Envoy, against a TLS xDS
// server secured by createXdsSecurity with tokens verified against the real API server.
// One Envoy, one token file: a token for another audience, one bound to a deleted Pod, and
// (server clock 11 min ahead) an expired one are each refused; then the Pod's own token is
// accepted and Envoy receives its config and its workload certificate.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpMethod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiError, KubeClient } from '../../src/k8s/client.ts';
import type { PodLookup } from '../../src/identity/token.ts';
import { renderSidecarBootstrap } from '../../xds/bootstrap/sidecar.ts';
import { kubeConfig, kubectl, tempNamespace } from '../support/kube.ts';
import { startEnvoy } from '../../test/support/envoy.ts';
import { freePorts } from '../../test/support/free-port.ts';
import { metricValue } from '../../test/xds-server/support/harness.ts';
import { handshake, until, withSdsProbeListener, workloadCert } from '../../test/sds/envoy-support.ts';
import { startSecureServer, type SecureServer } from '../../test/sds/support.ts';
import { apiPodLookup } from '../../test/support/api-pod-lookup.ts';

let client: KubeClient;
let ns = '';

const podLookup: PodLookup = apiPodLookup(() => client);

async function createPod(name: string): Promise<string> {
  const body = {
    metadata: { name },
    spec: { nodeName: 'weft-node', serviceAccountName: 'web', automountServiceAccountToken: false, containers: [{ name: 'app', image: 'weft.test/app:1' }] },
  };
  for (let attempt = 0; ; attempt++) {
    try {
      return (await client.request<{ metadata: { uid: string } }>(HttpMethod.POST, `/api/v1/namespaces/${ns}/pods`, { body })).metadata.uid;
    } catch (err) {
      if (attempt >= 20 || !(err instanceof KubeApiError) || err.statusCode !== 403) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function token(pod: string, uid: string, audience = 'weft'): Promise<string> {
  const args = [
    'create',
    'token',
    'web',
    '-n',
    ns,
    '--audience',
    audience,
    '--bound-object-kind',
    'Pod',
    '--bound-object-name',
    pod,
    '--bound-object-uid',
    uid,
    '--duration',
    '10m',
  ];
  return (await kubectl(args)).stdout.trim();
}

const refusals = (reason: string): Promise<number> => metricValue('weft_xds_auth_total', { method: 'token', result: 'rejected', reason });

describe('sidecar bootstrap with API-server tokens in a real Envoy', () => {
  let s: SecureServer;
  let clockOffsetMs = 0;
  beforeAll(async () => {
    client = new KubeClient(await kubeConfig());
    ns = await tempNamespace('weft-sidecar-token');
    await kubectl(['create', 'serviceaccount', 'web', '-n', ns]);
    s = await startSecureServer({ tokens: { podLookup, jwks: { client }, now: () => Date.now() + clockOffsetMs } });
  }, 600_000);
  afterAll(() => s?.close());

  it('is refused for another audience, a deleted pod and an expired token, then accepted with its own', async () => {
    const uid = await createPod('web-1');
    const goneUid = await createPod('web-gone');
    const goneToken = await token('web-gone', goneUid);
    await client.request(HttpMethod.DELETE, `/api/v1/namespaces/${ns}/pods/web-gone`, { body: { gracePeriodSeconds: 0 } });
    await until('the deleted pod to be gone', async () => ((await podLookup(ns, 'web-gone')) === undefined ? true : undefined), 20_000);

    const dir = await mkdtemp(join(tmpdir(), 'weft-token-'));
    const tokenPath = join(dir, 'token');
    await writeFile(tokenPath, await token('web-1', uid, 'other'));
    const [readiness = 0, stats = 0, probe = 0] = await freePorts(3);
    const bootstrap = renderSidecarBootstrap({
      namespace: ns,
      labels: { app: 'web' },
      xdsAddress: `127.0.0.1:${s.server.port}`,
      trustBundlePem: s.ca.trustBundlePem,
      tokenPath,
      ports: { readiness, stats },
    });
    const before = { aud: await refusals('wrong_audience'), gone: await refusals('pod_not_found'), expired: await refusals('expired') };
    const envoy = await startEnvoy({ bootstrapYaml: withSdsProbeListener(bootstrap, probe), waitFor: 'admin' });
    try {
      await until('a wrong-audience refusal', async () => ((await refusals('wrong_audience')) > before.aud ? true : undefined), 60_000);
      // The kubelet rewrites the token file; Envoy re-reads it on its next stream.
      await writeFile(tokenPath, goneToken);
      await until('a deleted-pod refusal', async () => ((await refusals('pod_not_found')) > before.gone ? true : undefined), 60_000);
      clockOffsetMs = 11 * 60_000;
      await writeFile(tokenPath, await token('web-1', uid));
      await until('an expired-token refusal', async () => ((await refusals('expired')) > before.expired ? true : undefined), 60_000);
      expect(s.server.ads.connected).toBe(0);
      expect((await envoy.stats('^cluster_manager\\.cds\\.update_success$')).get('cluster_manager.cds.update_success') ?? 0).toBe(0);

      clockOffsetMs = 0;
      const connectedAt = Date.now();
      const cert = await until('the workload certificate over SDS', () => workloadCert(envoy, ''), 90_000);
      console.info(`[sidecar token] accepted ${Date.now() - connectedAt} ms after the clock was put right (Envoy's reconnect backoff)`);
      expect(cert.uri).toBe(`spiffe://cluster.local/ns/${ns}/sa/web`);
      expect((await envoy.stats('^cluster_manager\\.cds\\.update_success$')).get('cluster_manager.cds.update_success')).toBeGreaterThan(0);
      expect(JSON.stringify(await envoy.configDump())).toContain('a.shop');
      const served = await until('the TLS probe listener', () => handshake(probe, s.ca.trustBundlePem), 30_000);
      expect(served.subjectAltName).toBe(`URI:spiffe://cluster.local/ns/${ns}/sa/web`);
    } finally {
      await envoy.stop();
    }
  }, 300_000);
});
