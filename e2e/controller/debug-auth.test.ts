// The authenticated debug API and mesh view of `weft controller --debug-auth=kube` against the
// real kube-apiserver, with the chart's RBAC (debugApi.authenticated=true): the controller asks
// TokenReview who a bearer token belongs to and SubjectAccessReview whether they may
// `get proxies.mesh.weft.dev`. No token → 401, a token without the right → 403, a token bound
// to the chart's debug-reader ClusterRole → 200. The probes, /metrics and the static page stay
// open; no answer carries a key or a token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startController, type ControllerProcess } from './support/controller-process.ts';
import { tempNamespace, uniqueName } from '../support/kube.ts';
import { apply, controllerIdentity, installCrds, kubectl, SCOPE_LABEL, sharedCluster, type ClusterEnv } from './support/kube.ts';
import { controllerRbacYaml } from './support/rbac.ts';
import { MeshViewSchema } from '../../src/runtime/meshview/shape.ts';

let env: ClusterEnv;
let ctl: ControllerProcess;
let cpNs: string;
let viewerToken: string;
let strangerToken: string;
const scope = uniqueName('weft-dbg');
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  env = await sharedCluster();
  await installCrds(env);
  cpNs = await tempNamespace('weft-dbg', { [SCOPE_LABEL]: scope });
  const rbac = await controllerRbacYaml(env, cpNs, ['--set', 'debugApi.authenticated=true']);
  expect(rbac.fromChart).toBe(true);
  const identity = await controllerIdentity(env, cpNs, rbac.yaml);
  cleanups.push(identity.cleanup);
  // Two users: one bound to the chart's reader ClusterRole (renamed per namespace by controllerRbacYaml), one bound to nothing.
  const reader = `weft-debug-reader-${cpNs}`;
  await apply(
    env,
    [
      `apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: viewer, namespace: ${cpNs}}`,
      `apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: stranger, namespace: ${cpNs}}`,
      `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: ${reader}-viewer}\n` +
        `roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${reader}}\n` +
        `subjects: [{kind: ServiceAccount, name: viewer, namespace: ${cpNs}}]`,
    ].join('\n---\n'),
  );
  cleanups.push(() => kubectl(env, ['delete', 'clusterrolebinding', `${reader}-viewer`, '--ignore-not-found']));
  viewerToken = (await kubectl(env, ['create', 'token', 'viewer', '-n', cpNs, '--duration', '10m'])).trim();
  strangerToken = (await kubectl(env, ['create', 'token', 'stranger', '-n', cpNs, '--duration', '10m'])).trim();

  ctl = await startController({
    kubeconfig: identity.kubeconfig,
    namespace: cpNs,
    identity: 'dbg-0',
    args: ['--debug-auth', 'kube', '--leader-elect=false', '--discovery-selector', `${SCOPE_LABEL}=${scope}`],
  });
}, 120_000);

afterAll(async () => {
  await ctl?.stop();
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function get(path: string, token?: string): Promise<{ status: number; body: string; www?: string; scope?: string }> {
  const res = await fetch(`${ctl.monitoringUrl}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  return {
    status: res.status,
    body: await res.text(),
    ...(res.headers.get('www-authenticate') ? { www: res.headers.get('www-authenticate')! } : {}),
    ...(res.headers.get('x-weft-scope') ? { scope: res.headers.get('x-weft-scope')! } : {}),
  };
}

const guarded = ['/debug/proxies', '/debug/config', '/debug/informers', '/mesh/api/graph'];
// Views about namespaced things answer a caller without the cluster-wide right for the namespaces
// they may read (none here: empty, marked narrowed); mesh-wide views refuse them.
const scoped = new Set(['/debug/proxies', '/mesh/api/graph']);

describe('authenticated debug API (TokenReview + SubjectAccessReview)', () => {
  it.each(guarded)('%s: no token 401, a bad token 401, a token without the right 403 or narrowed to nothing, the reader 200', async (path) => {
    const none = await get(path);
    expect(none.status).toBe(401);
    expect(none.www).toMatch(/^Bearer/);
    expect((await get(path, 'not-a-token')).status).toBe(401);
    const stranger = await get(path, strangerToken);
    if (scoped.has(path)) {
      expect(stranger.status).toBe(200);
      expect(stranger.scope).toBe('namespaces');
      const body = JSON.parse(stranger.body) as unknown;
      expect(
        Array.isArray(body) ? body : (body as { proxies: unknown[]; services: unknown[] }).proxies.concat((body as { services: unknown[] }).services),
      ).toEqual([]);
    } else {
      expect(stranger.status).toBe(403);
      expect(JSON.parse(stranger.body).error).toContain(`system:serviceaccount:${cpNs}:stranger`);
    }
    const viewer = await get(path, viewerToken);
    expect(viewer.status).toBe(200);
    console.log(`[debug-auth] ${path}: 401 / 401 / ${stranger.status} / 200`);
  });

  it('the mesh view answers its documented shape to the reader', async () => {
    const r = await get('/mesh/api/graph', viewerToken);
    expect(() => MeshViewSchema.parse(JSON.parse(r.body))).not.toThrow();
  });

  it('probes, /metrics and the static page need no token', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/mesh/', '/mesh/app.js']) expect((await get(path)).status, path).toBe(200);
  });

  it('no answer carries a private key or a token', async () => {
    for (const path of guarded) {
      const body = (await get(path, viewerToken)).body;
      expect(body).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
      expect(body).not.toContain(viewerToken);
      expect(body).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\./); // no JWT of anyone
    }
  });
});
