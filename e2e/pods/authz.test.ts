// AuthorizationPolicy on real Pods: Weft installed by its chart, a server Pod and two client
// Pods with different service accounts, all injected by the webhook and started by the
// kubelet. Each client's sidecar originates mTLS with its own workload certificate (from the
// kubelet token of its service account); the server's sidecar authorizes on that identity.
// The policy is applied as a user applies it (kubectl, admitted by the validating webhook),
// and the controller writes its status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/kube.ts';
import { napply, nk, nkJson, nodeSuitesEnabled } from '../node/support.ts';
import { installWeft, type WeftRelease } from './support/weft.ts';
import { checkoutPod, copyShopApp, envoyStats, pods, statSum, waitPodReady } from './support/shop.ts';

/** One request from a client Pod's app container (through its sidecar): status and body. */
async function call(ns: string, pod: string, path = '/'): Promise<{ status: number; body: string }> {
  const url = `http://server.${ns}.svc.cluster.local:8080${path}`;
  const script = `fetch(${JSON.stringify(url)}).then(async r => console.log(JSON.stringify({status: r.status, body: await r.text()})), e => console.log(JSON.stringify({status: 0, body: String(e.cause ?? e)})))`;
  const r = await nk(['-n', ns, 'exec', pod, '-c', 'app', '--', 'node', '-e', script], { timeoutMs: 30_000 });
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { status: number; body: string };
}

describe.skipIf(!nodeSuitesEnabled)('AuthorizationPolicy on real Pods', () => {
  let rel: WeftRelease;
  let ns: { name: string; remove: () => Promise<void> };

  beforeAll(async () => {
    rel = await installWeft();
    ns = await rel.meshNamespace('authz');
    const n = ns.name;
    await copyShopApp(n);
    const withSa = (pod: object, sa: string) => {
      const p = pod as { spec: Record<string, unknown> };
      return { ...p, spec: { ...p.spec, serviceAccountName: sa } };
    };
    await napply(
      [
        ...['server', 'allowed', 'denied'].map((sa) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa } })),
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'server' },
          spec: { selector: { app: 'server' }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] },
        },
        withSa(checkoutPod('server'), 'server'),
        withSa(checkoutPod('client-allowed'), 'allowed'),
        withSa(checkoutPod('client-denied'), 'denied'),
      ],
      n,
    );
    await Promise.all(['server', 'client-allowed', 'client-denied'].map((p) => waitPodReady(n, p, 180_000)));
  }, 600_000);

  afterAll(async () => {
    await ns?.remove();
    await rel?.uninstall();
  }, 180_000);

  it('without a policy both callers get 200', async () => {
    const n = ns.name;
    await eventually(() => call(n, 'client-allowed'), { timeoutMs: 60_000, until: (r) => r.status === 200, what: 'client-allowed reaches the server' });
    expect((await call(n, 'client-denied')).status).toBe(200);
  }, 90_000);

  it('with an allow rule for one service account: it gets 200, the other 403 with a clear body', async () => {
    const n = ns.name;
    await napply(
      {
        apiVersion: 'mesh.weft.dev/v1alpha1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'server' },
        spec: { targetRef: { kind: 'Service', name: 'server' }, allow: [{ from: { serviceAccounts: [`${n}/allowed`] } }] },
      },
      n,
    );
    const denied = await eventually(() => call(n, 'client-denied'), { timeoutMs: 60_000, until: (r) => r.status === 403, what: 'client-denied refused' });
    expect(denied.body).toBe('weft: access denied by AuthorizationPolicy (rbac_access_denied_matched_policy[none])\n');
    const [server] = await pods(n, 'app=server');
    const allowedCount = async () => statSum(await envoyStats(server?.status.podIP ?? ''), 'rbac_allowed{', 'envoy_rbac_http_prefix="authz_allow"');
    // Connections opened before the policy keep the old rules while they drain (5 s): wait
    // until every request of a batch is judged (and allowed) by the new filter.
    const batch = await eventually(
      async () => {
        const before = await allowedCount();
        const statuses = [];
        for (let i = 0; i < 3; i++) statuses.push((await call(n, 'client-allowed')).status);
        return { statuses, delta: (await allowedCount()) - before };
      },
      { timeoutMs: 60_000, intervalMs: 1000, until: (r) => r.delta === 3, what: 'every allowed request judged by the new filter' },
    );
    expect(batch.statuses).toEqual([200, 200, 200]);

    // The controller wrote the status; the server's sidecar counted the verdicts.
    // Programmed counts the affected proxies of every replica (their report Leases); it is
    // printed. Accepted and ResolvedRefs are the model's verdict.
    type Status = { summary?: string; conditions?: { type: string; status: string; reason: string; message: string }[] };
    const status = await eventually(async () => (await nkJson<{ status?: Status }>(['-n', n, 'get', 'authz', 'server', '-o', 'json'])).status ?? {}, {
      timeoutMs: 60_000,
      intervalMs: 1000,
      until: (s) => ['Accepted', 'ResolvedRefs', 'Programmed'].every((t) => (s.conditions ?? []).some((c) => c.type === t)),
      what: 'status conditions',
    });
    console.log(`[authz] status: ${JSON.stringify(status)}`);
    for (const t of ['Accepted', 'ResolvedRefs']) expect(status.conditions?.find((c) => c.type === t)?.status).toBe('True');
    expect(status.summary).toBe('1 allow rule, 0 deny rules; default deny');
    const stats = await envoyStats(server?.status.podIP ?? '');
    const verdicts = [...stats].filter(([k, v]) => k.includes('rbac') && v > 0).map(([k, v]) => `${k} ${v}`);
    console.log(`[authz] server sidecar RBAC stats: ${verdicts.join(', ')}`);
    expect(statSum(stats, 'rbac_denied{', 'envoy_rbac_http_prefix="authz_allow"')).toBeGreaterThan(0);
    const wide = await nk(['-n', n, 'get', 'authz', '-o', 'wide']);
    console.log(`[authz] kubectl get authz -o wide:\n${wide.stdout}`);
  }, 240_000);

  it('a dry-run deny denies nothing and is counted in the shadow stats', async () => {
    const n = ns.name;
    await napply(
      {
        apiVersion: 'mesh.weft.dev/v1alpha1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'beta' },
        spec: { targetRef: { kind: 'Service', name: 'server' }, dryRun: true, deny: [{ to: { paths: ['/beta/*'] } }] },
      },
      n,
    );
    const [server] = await pods(n, 'app=server');
    const shadow = async () => statSum(await envoyStats(server?.status.podIP ?? ''), 'rbac_shadow_denied{', 'envoy_rbac_http_prefix="authz_deny"');
    // The shadow rules arrive with the next listener version; connections opened before it
    // keep the old rules while they drain (--drain-time-s 5): wait until every request of a
    // batch is judged by the new ones, each still answered 200.
    const counted = await eventually(
      async () => {
        const before = await shadow();
        const statuses = [];
        for (let i = 0; i < 3; i++) statuses.push((await call(n, 'client-allowed', '/beta/x')).status);
        return { statuses, delta: (await shadow()) - before };
      },
      { timeoutMs: 60_000, intervalMs: 1000, until: (r) => r.delta === 3, what: 'shadow_denied counts every /beta request' },
    );
    expect(counted.statuses).toEqual([200, 200, 200]);
    expect((await call(n, 'client-denied', '/beta/x')).status).toBe(403);
  }, 120_000);

  it('the API server refuses an invalid policy, naming the field', async () => {
    const r = await nk(['-n', ns.name, 'apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'mesh.weft.dev/v1alpha1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'bad' },
        spec: { allow: [{ from: { serviceAccounts: ['cluster.local/ns/x/sa/y'] } }] },
      }),
      allowFailure: true,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.allow[0].from.serviceAccounts[0]');
  });
});
