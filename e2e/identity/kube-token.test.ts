// Proxy authentication against the real API server (e2e/cluster/up.sh): tokens the API
// server issues with `kubectl create token --bound-object-kind Pod` for a Pod created through
// the API. Keys come from the API server's OIDC discovery; the bound Pod is looked up with a
// GET (in the controller, the pod informer answers). The cluster is shared: one temporary
// namespace (e2e/support/kube.ts deletes it after the file).
import { create } from '@bufbuild/protobuf';
import { HttpMethod } from '@kubernetes/client-node';
import { Metadata } from '@grpc/grpc-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRootCa, loadCa } from '../../src/ca/authority.ts';
import { createAuthenticator } from '../../src/identity/authenticate.ts';
import { JwksCache, kubeOidc } from '../../src/identity/jwks.ts';
import { TokenVerifier, type PodLookup } from '../../src/identity/token.ts';
import { createXdsSecurity } from '../../src/runtime/xds-security.ts';
import { KubeApiError, KubeClient } from '../../src/k8s/client.ts';
import { NodeSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { AuthCall } from '../../src/identity/auth-hook.ts';
import { kubeConfig, kubectl as kubectlRun, tempNamespace } from '../support/kube.ts';
import { apiPodLookup } from '../../test/support/api-pod-lookup.ts';

let ns = '';
let client: KubeClient;

async function kubectl(...args: string[]): Promise<string> {
  return (await kubectlRun(args)).stdout.trim();
}

const podLookup: PodLookup = apiPodLookup(() => client);

async function createPod(name: string, serviceAccount: string): Promise<string> {
  const body = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: {
      nodeName: 'weft-node',
      serviceAccountName: serviceAccount,
      automountServiceAccountToken: false,
      containers: [{ name: 'app', image: 'weft.test/app:1' }],
    },
  };
  for (let attempt = 0; ; attempt++) {
    try {
      const pod = await client.request<{ metadata: { uid: string } }>(HttpMethod.POST, `/api/v1/namespaces/${ns}/pods`, { body });
      return pod.metadata.uid;
    } catch (err) {
      // The ServiceAccount admission plugin may not have seen the new ServiceAccount yet.
      if (attempt >= 20 || !(err instanceof KubeApiError) || err.statusCode !== 403) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function deletePodNow(name: string): Promise<void> {
  await client.request(HttpMethod.DELETE, `/api/v1/namespaces/${ns}/pods/${name}`, { body: { gracePeriodSeconds: 0 } });
  for (let i = 0; i < 40 && (await podLookup(ns, name)) !== undefined; i++) await new Promise((r) => setTimeout(r, 250));
}

const token = (sa: string, pod: string, uid: string, audience = 'weft'): Promise<string> =>
  kubectl(
    'create',
    'token',
    sa,
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
  );

function bearerCall(t: string): AuthCall {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${t}`);
  return { metadata, getPeer: () => '10.244.0.9:40000', getAuthContext: () => ({}) };
}

const node = create(NodeSchema, { id: 'web-1.kube-system' });

describe('ServiceAccount tokens from the real API server', () => {
  let uid = '';
  beforeAll(async () => {
    client = new KubeClient(await kubeConfig());
    ns = await tempNamespace('weft-identity'); // deleted after this file (pods force-deleted)
    await kubectl('create', 'serviceaccount', 'web', '-n', ns);
    uid = await createPod('web-1', 'web');
  }, 600_000);

  it('accepts a token bound to a live pod: identity from the token (not node.id), via createXdsSecurity', async () => {
    const ca = loadCa(await createRootCa(), { trustDomain: 'cluster.local' });
    if (!ca.ok) throw new Error('ca');
    const sec = await createXdsSecurity({ ca: ca.ca, tokens: { podLookup, jwks: { client } } });
    try {
      const r = await sec.authenticate(bearerCall(await token('web', 'web-1', uid)), node);
      // The credential also bounds what the proxy may claim (xds/server/scope.ts): its namespace.
      expect(r).toMatchObject({ ok: true, identity: `spiffe://cluster.local/ns/${ns}/sa/web`, scope: { namespace: ns } });
      // The authenticated identity's certificate was issued before authenticate returned.
      expect(sec.secretsFor(`spiffe://cluster.local/ns/${ns}/sa/web`).map((s) => s.name)).toEqual(['ROOTCA', 'default']);
      expect(sec.status().identities.map((i) => i.identity)).toEqual([`spiffe://cluster.local/ns/${ns}/sa/web`]);
    } finally {
      sec.close();
    }
  });

  describe('with a counting key fetcher', () => {
    let fetches = 0;
    let clockOffsetMs = 0;
    let authenticate: ReturnType<typeof createAuthenticator>;
    let verifier: TokenVerifier;
    beforeAll(async () => {
      const oidc = await kubeOidc(client);
      const keys = new JwksCache({ fetch: () => (fetches++, oidc.fetchJwks()) });
      verifier = new TokenVerifier({ keys, issuer: oidc.issuer, trustDomain: 'cluster.local', podLookup, now: () => Date.now() + clockOffsetMs });
      authenticate = createAuthenticator({ trustDomain: 'cluster.local', tokens: verifier });
    });

    it('verifies 1000 presentations of one token with at most one JWKS fetch', async () => {
      const t = await token('web', 'web-1', uid);
      const started = performance.now();
      const results = [];
      for (let i = 0; i < 10; i++) results.push(...(await Promise.all(Array.from({ length: 100 }, () => authenticate(bearerCall(t), node)))));
      const ms = performance.now() - started;
      expect(results.every((r) => r.ok && r.identity === `spiffe://cluster.local/ns/${ns}/sa/web`)).toBe(true);
      expect(fetches).toBeLessThanOrEqual(1);
      expect(verifier.cached).toBe(1);
      console.info(`1000 verifications of one token: ${fetches} JWKS fetch(es), ${ms.toFixed(0)} ms (each one also GETs the pod from the API server)`);
    }, 180_000);

    it('refuses a token for audience "other"', async () => {
      const r = await authenticate(bearerCall(await token('web', 'web-1', uid, 'other')), node);
      expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/audience/) });
    });

    it('refuses an expired token (10 min token, clock 11 min ahead)', async () => {
      const t = await token('web', 'web-1', uid);
      expect((await authenticate(bearerCall(t), node)).ok).toBe(true);
      clockOffsetMs = 11 * 60_000;
      try {
        expect(await authenticate(bearerCall(t), node)).toMatchObject({ ok: false, reason: expect.stringMatching(/expired/) });
      } finally {
        clockOffsetMs = 0;
      }
    });

    it("refuses a token bound to a deleted pod, and to the pod's namesake", async () => {
      const podUid = await createPod('web-2', 'web');
      const t = await token('web', 'web-2', podUid);
      expect((await authenticate(bearerCall(t), node)).ok).toBe(true);
      await deletePodNow('web-2');
      expect(await authenticate(bearerCall(t), node)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not exist/) });
      await createPod('web-2', 'web');
      expect(await authenticate(bearerCall(t), node)).toMatchObject({ ok: false, reason: expect.stringMatching(/was deleted/) });
      expect(fetches).toBeLessThanOrEqual(1);
    }, 60_000);
  });
});
