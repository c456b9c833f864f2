// Real Pods on the harness's node: a Deployment behind a readiness probe becomes Ready, a
// client Pod reaches it by its cluster DNS name through CoreDNS and kube-proxy's ClusterIP,
// a projected ServiceAccount token with a custom audience is mounted by the kubelet, Pods
// reach the API server through the `kubernetes` Service, `kubectl exec/logs` work, and the
// Pods' only routes are the pod and service ranges (no default route: nothing leaves the node).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/kube.ts';
import { debianImage, execIn, napply, nk, nkJson, nodeCluster, nodeNamespace, nodeSuitesEnabled, type NodeCluster } from './support.ts';

const IMAGE = 'weft.local/e2e-busybox:1';
interface PodList {
  items: {
    metadata: { name: string; creationTimestamp: string };
    status: { podIP?: string; conditions?: { type: string; status: string; lastTransitionTime: string }[] };
  }[];
}

describe.skipIf(!nodeSuitesEnabled)('real node: Pods, Services, DNS, tokens', () => {
  let c: NodeCluster;
  let ns: { name: string; remove: () => Promise<void> };
  const web = (replicas: number): object => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: 'web',
              image: IMAGE,
              imagePullPolicy: 'Never',
              command: [
                'sh',
                '-c',
                'echo "web starting"; mkdir -p /tmp/www && echo "hello from $HOSTNAME" >/tmp/www/index.html && exec busybox httpd -f -p 8080 -h /tmp/www',
              ],
              ports: [{ containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/index.html', port: 8080 }, periodSeconds: 1 },
              securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false },
            },
          ],
        },
      },
    },
  });

  beforeAll(async () => {
    c = await nodeCluster();
    await debianImage(IMAGE, 'busybox', ['--run', 'busybox --install -s /usr/local/bin', '--user', '65532:65532']);
    ns = await nodeNamespace('node-smoke');
  }, 1_200_000);
  afterAll(async () => {
    await ns?.remove();
  });

  it('a Deployment of 2 Pods with an HTTP readiness probe becomes Ready', async () => {
    const t0 = Date.now();
    await napply(
      [web(2), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } }],
      ns.name,
    );
    await nk(['-n', ns.name, 'rollout', 'status', 'deployment/web', '--timeout=90s'], { timeoutMs: 120_000 });
    const readyMs = Date.now() - t0;
    const pods = await nkJson<PodList>(['-n', ns.name, 'get', 'pods', '-l', 'app=web']);
    expect(pods.items).toHaveLength(2);
    for (const p of pods.items) expect(p.status.podIP).toMatch(/^10\.244\.0\./);
    console.log(`[node] Deployment of 2 Pods: create -> available in ${readyMs} ms`);
  }, 150_000);

  it('a client Pod reaches the Service by name through CoreDNS and the ClusterIP, with no default route', async () => {
    const t0 = Date.now();
    await napply(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'client' },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'client', image: IMAGE, imagePullPolicy: 'Never', command: ['sleep', '3600'] }],
        },
      },
      ns.name,
    );
    await nk(['-n', ns.name, 'wait', '--for=condition=Ready', 'pod/client', '--timeout=60s'], { timeoutMs: 90_000 });
    console.log(`[node] plain Pod create -> Ready in ${Date.now() - t0} ms`);

    const resolv = (await execIn(ns.name, 'client', 'cat /etc/resolv.conf')).stdout;
    expect(resolv).toContain(`nameserver ${c.env.WEFT_CLUSTER_DNS_IP}`);
    expect((await execIn(ns.name, 'client', 'id -g')).stdout.trim()).toBe('65532');
    expect(resolv).toContain(`search ${ns.name}.svc.cluster.local svc.cluster.local cluster.local`);

    const routes = (await execIn(ns.name, 'client', 'ip route')).stdout;
    expect(routes).not.toMatch(/^default/m);
    expect(routes).toContain(`10.96.0.0/16 via ${c.env.WEFT_BRIDGE_IP}`);

    const svcIP = (await nk(['-n', ns.name, 'get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    const lookup = await eventually(() => execIn(ns.name, 'client', `nslookup web.${ns.name}.svc.cluster.local`), { what: 'DNS answer', timeoutMs: 20_000 });
    expect(lookup.stdout).toContain(svcIP);

    const fetched = (
      await execIn(ns.name, 'client', `for i in $(seq 20); do timeout 5 wget -q -O - http://web.${ns.name}.svc.cluster.local/index.html || echo FAIL; done`, {
        timeoutMs: 90_000,
      })
    ).stdout
      .trim()
      .split('\n');
    expect(fetched).toHaveLength(20);
    expect(fetched.filter((l) => !l.startsWith('hello from web-'))).toEqual([]);
    // kube-proxy spreads the 20 requests over both backends.
    expect(new Set(fetched).size).toBe(2);
  }, 150_000);

  it('the host (where the API server calls webhooks from) reaches a ClusterIP', async () => {
    const svcIP = (await nk(['-n', ns.name, 'get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    const res = await fetch(`http://${svcIP}/index.html`, { signal: AbortSignal.timeout(5000) });
    expect(await res.text()).toMatch(/^hello from web-/);
  });

  it('kubectl logs shows a container log (API server -> kubelet)', async () => {
    const pod = (await nk(['-n', ns.name, 'get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout;
    const logs = await eventually(async () => (await nk(['-n', ns.name, 'logs', pod])).stdout, { until: (s) => s.includes('web starting'), what: 'logs' });
    expect(logs).toContain('web starting');
  });

  it('Pods reach the API server through the kubernetes Service', async () => {
    const ep = await nkJson<{ subsets: { addresses: { ip: string }[]; ports: { port: number }[] }[] }>(['-n', 'default', 'get', 'endpoints', 'kubernetes']);
    expect(ep.subsets[0]?.addresses[0]?.ip).toBe(c.env.WEFT_BRIDGE_IP);
    // kube-proxy DNATs the ClusterIP to the bridge address, where the API server listens.
    // busybox's TLS client cannot talk to it (no ECDSA), so plain HTTP to the TLS port: Go's
    // TLS server answers that with its own 400, which only the API server would send.
    const r = await execIn(ns.name, 'client', 'timeout 5 wget -q -O - http://kubernetes.default.svc:443/readyz 2>&1', { allowFailure: true });
    expect(r.stdout).toContain('HTTP/1.0 400 Bad Request');
  });

  it('the kubelet mounts a projected ServiceAccount token with the audience weft', async () => {
    await napply(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'token' },
        spec: {
          terminationGracePeriodSeconds: 1,
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'c',
              image: IMAGE,
              imagePullPolicy: 'Never',
              command: ['sleep', '3600'],
              volumeMounts: [{ name: 'weft-token', mountPath: '/var/run/secrets/weft', readOnly: true }],
            },
          ],
          volumes: [{ name: 'weft-token', projected: { sources: [{ serviceAccountToken: { audience: 'weft', expirationSeconds: 600, path: 'token' } }] } }],
        },
      },
      ns.name,
    );
    await nk(['-n', ns.name, 'wait', '--for=condition=Ready', 'pod/token', '--timeout=60s'], { timeoutMs: 90_000 });
    const jwt = (await execIn(ns.name, 'token', 'cat /var/run/secrets/weft/token')).stdout.trim();
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as {
      aud: string[];
      sub: string;
      'kubernetes.io': { pod: { name: string }; node: { name: string } };
    };
    expect(claims.aud).toEqual(['weft']);
    expect(claims.sub).toBe(`system:serviceaccount:${ns.name}:default`);
    expect(claims['kubernetes.io'].pod.name).toBe('token');
    expect(claims['kubernetes.io'].node.name).toBe(c.env.WEFT_NODE_NAME);
  }, 120_000);
});
