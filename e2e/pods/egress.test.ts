// Egress scope (weft.dev/egress) on real Pods: Weft installed by its chart (confined release),
// one injected `echo` Deployment behind two Services, `alpha` (A) and `echo` (B), and two
// injected client Pods: `scoped`, annotated to call only B (`./echo`), and `plain`, unannotated.
// The controller reads the annotation from the Pod bound to the sidecar's token. Read from each
// sidecar's admin API inside its Pod's network namespace: the scoped sidecar holds B's cluster,
// listener chain and route configuration and none of A's; the plain one holds both. Requests
// from the scoped Pod to B succeed through its sidecar (over mTLS); a request to A takes the
// passthrough path (plaintext to the original destination): served under PERMISSIVE, refused
// once a PeerAuth makes the namespace STRICT. The webhook refuses an unparseable annotation;
// a Pod without one takes its Namespace's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, run, toYaml } from '../support/kube.ts';
import { napply, nk, nkJson, nodeSuitesEnabled } from '../node/support.ts';
import { installWeft, weftImages, type WeftRelease } from './support/weft.ts';
import { deployEcho, idleClientPod } from './support/traffic-loop.ts';
import { containerPid, envoyStats, statSum, type PodInfo } from './support/shop.ts';

// Runs in a client's app container: `n` GETs of `url`, one at a time; prints {"ok": k, "codes": {...}}.
const CALLER = `
const [url, n] = [process.argv[1], Number(process.argv[2])];
(async () => {
  let ok = 0; const codes = {};
  for (let i = 0; i < n; i++) {
    let code;
    try { const r = await fetch(url, { signal: AbortSignal.timeout(3000) }); await r.text(); code = r.status; }
    catch (e) { code = String(e?.cause?.code ?? e?.name ?? e); }
    if (code === 200) ok++;
    codes[code] = (codes[code] ?? 0) + 1;
  }
  console.log(JSON.stringify({ ok, codes }));
})();
`;

interface Calls {
  ok: number;
  codes: Record<string, number>;
}

type Json = Record<string, unknown>;

describe.skipIf(!nodeSuitesEnabled)('egress scope on real Pods', () => {
  let rel: WeftRelease;
  let mesh: { name: string; remove: () => Promise<void> };
  let image = '';

  beforeAll(async () => {
    image = (await weftImages()).weft;
    rel = await installWeft();
    mesh = await rel.meshNamespace('egress');
    await deployEcho(mesh.name, image, 1);
    await napply(
      [
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'alpha' },
          spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
        },
        idleClientPod('scoped', image, { 'weft.dev/egress': './echo' }),
        idleClientPod('plain', image),
      ],
      mesh.name,
    );
    for (const p of ['scoped', 'plain']) {
      await nk(['-n', mesh.name, 'wait', '--for=condition=Ready', `pod/${p}`, '--timeout=180s'], { timeoutMs: 200_000 });
    }
  }, 1_800_000);

  afterAll(async () => {
    await mesh?.remove();
    await rel?.uninstall();
  }, 200_000);

  const pod = (name: string) => nkJson<PodInfo>(['-n', mesh.name, 'get', 'pod', name]);

  /** GET on the sidecar's admin API (127.0.0.1:15000), from inside the Pod's network namespace. */
  async function admin(name: string, path: string): Promise<string> {
    const pid = await containerPid(await pod(name), 'app');
    return (await run('nsenter', ['-t', String(pid), '-n', 'curl', '-sf', `http://127.0.0.1:15000${path}`])).stdout;
  }

  async function held(name: string): Promise<{ clusters: string[]; routes: string[]; chains: string[] }> {
    const dump = JSON.parse(await admin(name, '/config_dump')) as { configs: Json[] };
    const clusters: string[] = [];
    const routes: string[] = [];
    const chains: string[] = [];
    for (const s of dump.configs) {
      for (const c of (s.dynamic_active_clusters as Json[] | undefined) ?? []) clusters.push(String((c.cluster as Json).name));
      for (const r of (s.dynamic_route_configs as Json[] | undefined) ?? []) routes.push(String((r.route_config as Json).name));
      for (const l of (s.dynamic_listeners as Json[] | undefined) ?? []) {
        const listener = (l.active_state as Json | undefined)?.listener as { filter_chains?: { name?: string }[] } | undefined;
        for (const fc of listener?.filter_chains ?? []) if (fc.name) chains.push(fc.name);
      }
    }
    return { clusters: clusters.sort(), routes: routes.sort(), chains: chains.sort() };
  }

  async function call(from: string, service: string, n: number): Promise<Calls> {
    const url = `http://${service}.${mesh.name}.svc.cluster.local/`;
    const r = await nk(['-n', mesh.name, 'exec', from, '-c', 'app', '--', 'node', '-e', CALLER, url, String(n)], { timeoutMs: 120_000 });
    return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Calls;
  }

  it('refuses a Pod whose weft.dev/egress does not parse, naming the annotation and why', async () => {
    const r = await nk(['-n', mesh.name, 'apply', '-f', '-'], {
      input: toYaml(idleClientPod('bad', image, { 'weft.dev/egress': 'echo' })),
      allowFailure: true,
    });
    console.log(`[pods egress] bad annotation: ${r.stderr.trim()}`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('annotation weft.dev/egress: "echo" is not <namespace>/<service> (use "./echo"');
  });

  it("the scoped sidecar holds B's cluster, chain and route configuration, not A's; the plain one both", { timeout: 120_000 }, async () => {
    const b = `outbound|80||echo.${mesh.name}.svc.cluster.local`;
    const a = `outbound|80||alpha.${mesh.name}.svc.cluster.local`;
    const plain = await eventually(() => held('plain'), {
      until: (h) => h.routes.includes(a) && h.routes.includes(b),
      what: 'the plain sidecar has A and B',
      timeoutMs: 60_000,
    });
    const scoped = await eventually(() => held('scoped'), { until: (h) => h.routes.includes(b), what: 'the scoped sidecar has B', timeoutMs: 60_000 });
    const outbound = (h: { clusters: string[] }) => h.clusters.filter((c) => c.startsWith('outbound|'));
    console.log(
      `[pods egress] plain sidecar: ${outbound(plain).length} outbound clusters, ${plain.routes.length} route configs; scoped: ${JSON.stringify(outbound(scoped))}, routes ${JSON.stringify(scoped.routes)}`,
    );
    expect(plain.clusters).toEqual(expect.arrayContaining([a, b]));
    expect(plain.chains).toEqual(expect.arrayContaining([a, b]));
    expect(scoped.clusters).toContain(b);
    expect(scoped.chains).toContain(b);
    expect(scoped.routes).toContain(b);
    for (const list of [scoped.clusters, scoped.routes, scoped.chains]) expect(list).not.toContain(a);
    // Nothing of the release's other Services (the controller's own namespace) either.
    expect(outbound(scoped).every((c) => c.endsWith(`.${mesh.name}.svc.cluster.local`) && c.includes('||echo.'))).toBe(true);
    expect(outbound(plain).length).toBeGreaterThan(outbound(scoped).length);
  });

  it('requests from the scoped Pod to B succeed through its sidecar over mTLS; A takes the passthrough path', { timeout: 240_000 }, async () => {
    const ip = (await pod('scoped')).status.podIP ?? '';
    const routedToB = async () => statSum(await envoyStats(ip), /(?<!external)_upstream_rq_completed\{/, `outbound|80||echo`);
    const passthrough = async () => statSum(await envoyStats(ip), /_upstream_cx_total\{/, 'PassthroughCluster');
    const [b0, p0] = [await routedToB(), await passthrough()];
    const toB = await call('scoped', 'echo', 50);
    const toA = await call('scoped', 'alpha', 5);
    const stats = await envoyStats(ip);
    const tls = statSum(stats, 'ssl_handshake{', 'outbound|80||echo');
    console.log(
      `[pods egress] scoped Pod: B ${toB.ok}/50 ok (${JSON.stringify(toB.codes)}), routed by its sidecar ${(await routedToB()) - b0}, TLS handshakes ${tls}; A (PERMISSIVE) ${toA.ok}/5 ok through passthrough (+${(await passthrough()) - p0} connections)`,
    );
    expect(toB.ok).toBe(50);
    expect((await routedToB()) - b0).toBeGreaterThanOrEqual(50);
    expect(tls).toBeGreaterThan(0);
    expect(toA.ok).toBe(5);
    expect((await passthrough()) - p0).toBeGreaterThan(0);

    // STRICT: the echo Pod's sidecar refuses plaintext; B (mTLS from the scoped sidecar) still works.
    await napply({ apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'PeerAuth', metadata: { name: 'default' }, spec: { mtls: { mode: 'STRICT' } } }, mesh.name);
    const refused = await eventually(() => call('scoped', 'alpha', 3), { until: (c) => c.ok === 0, what: 'A refused under STRICT', timeoutMs: 60_000 });
    const stillB = await call('scoped', 'echo', 20);
    console.log(`[pods egress] STRICT: A from the scoped Pod ${JSON.stringify(refused.codes)}; B ${stillB.ok}/20 ok`);
    expect(stillB.ok).toBe(20);
  });

  it("a Pod without the annotation takes its Namespace's", { timeout: 240_000 }, async () => {
    await nk(['annotate', 'namespace', mesh.name, 'weft.dev/egress=./alpha', '--overwrite']);
    await napply(idleClientPod('by-namespace', image), mesh.name);
    await nk(['-n', mesh.name, 'wait', '--for=condition=Ready', 'pod/by-namespace', '--timeout=180s'], { timeoutMs: 200_000 });
    const a = `outbound|80||alpha.${mesh.name}.svc.cluster.local`;
    const b = `outbound|80||echo.${mesh.name}.svc.cluster.local`;
    const h = await eventually(() => held('by-namespace'), { until: (x) => x.routes.includes(a), what: 'the sidecar has A', timeoutMs: 60_000 });
    console.log(`[pods egress] Pod in the namespace annotated ./alpha: clusters ${JSON.stringify(h.clusters.filter((c) => c.startsWith('outbound|')))}`);
    expect(h.clusters).toContain(a);
    expect(h.clusters).not.toContain(b);
    expect(h.routes).not.toContain(b);
  });
});
