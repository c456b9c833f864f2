// weftctl status and config, their output (golden files: UPDATE_GOLDEN=1 npx vitest run
// test/cli/status-config.test.ts, then review the diff like code) and the data behind them: the
// rows' SYNCED/STALE/NACKED verdicts, a proxy's served config built from the real translation
// and a real CA (secrets summarised, never a key), and the per-namespace narrowing of the debug
// API (access/scope.ts, debug-views.ts, meshview/scope-filter.ts) with a scripted Authorizer.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildModel } from '../../src/model/build.ts';
import { createRootCa, loadCa } from '../../src/ca/authority.ts';
import { formatStatus, sortStatusRows, statusRows } from '../../src/runtime/proxy-status.ts';
import { configData, formatProxyConfig, type ServedConfig } from '../../src/runtime/proxy-config-format.ts';
import { scopedDebugViews } from '../../src/runtime/debug-views.ts';
import { scopeMeshView } from '../../src/runtime/meshview/scope-filter.ts';
import { resolveScope, type ReadScope } from '../../src/runtime/access/scope.ts';
import type { Authorizer } from '../../src/runtime/access/access.ts';
import { splitPositionals } from '../../src/runtime/cli/flags.ts';
import { configCommand } from '../../src/runtime/cli/config-flags.ts';
import { debugPortOf, refusal } from '../../src/runtime/cli/debug-client.ts';
import type { MeshView } from '../../src/runtime/meshview/shape.ts';
import { debugProxies, type ProxyDebug } from '../../xds/server/debug.ts';
import { proxyConfig } from '../../xds/server/debug-config.ts';
import type { StreamDebug } from '../../xds/server/stream-debug.ts';
import { encodeResourceSet } from '../../xds/snapshot/encode.ts';
import type { CachedSnapshot } from '../../xds/snapshot/types.ts';
import { translate } from '../../xds/translate/index.ts';
import { trustBundleSecret, workloadCertSecret } from '../../xds/secrets/resources.ts';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import type { ProxyInfo } from '../../xds/resources/proxy.ts';
import { service, slice, split } from '../model/fixtures.ts';

const golden = (name: string, text: string): void => {
  const path = new URL(`./golden/${name}`, import.meta.url);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) writeFileSync(path, text);
  expect(text).toBe(readFileSync(path, 'utf8'));
};

const NOW = new Date('2026-01-02T03:04:05Z');
const v = (n: number): string => `${n}`.repeat(16).slice(0, 16);

function stream(id: string, namespace: string, opts: { sent?: string; acked?: string; nack?: string; identity?: string; at?: string } = {}): StreamDebug {
  const sent = opts.sent ?? v(1);
  const acked = opts.acked ?? sent;
  const type = (typeUrl: string, last = false) => ({
    typeUrl: typeUrl as (typeof TypeUrl)[keyof typeof TypeUrl],
    subscribed: '*' as const,
    versionSent: last ? sent : v(2),
    versionAcked: last ? acked : v(2),
    ...(last && opts.nack !== undefined ? { lastNack: { nonce: 'n1', version: sent, message: opts.nack, at: '2026-01-02T03:00:00.000Z' } } : {}),
  });
  return {
    stream: `s-${id}`,
    protocol: 'sotw',
    proxy: { id, kind: 'sidecar', namespace, labels: {}, capture: true, ...(opts.identity ? { identity: opts.identity } : {}) },
    group: 'g',
    connectedSince: opts.at ?? '2026-01-02T02:04:05.000Z',
    types: [type(TypeUrl.Secret), type(TypeUrl.Cluster), type(TypeUrl.Endpoint), type(TypeUrl.Listener), type(TypeUrl.Route, true)],
  };
}

const replica0: StreamDebug[] = [
  stream('web-7d9f-abcde.shop', 'shop', { identity: 'spiffe://cluster.local/ns/shop/sa/web' }),
  stream('cart-55c-xyz12.shop', 'shop', {
    identity: 'spiffe://cluster.local/ns/shop/sa/cart',
    sent: v(3),
    acked: v(1),
    nack: 'Error adding/updating listener(s) x: malformed IP address: 10.0.0.\nmore',
  }),
];
const replica1: StreamDebug[] = [
  stream('pay-6f8-qwert.billing', 'billing', { identity: 'spiffe://cluster.local/ns/billing/sa/pay', sent: v(4), acked: v(1), at: '2026-01-01T03:04:05.000Z' }),
  stream('vm-gateway', 'billing'),
];

describe('weftctl status output', () => {
  const rows = sortStatusRows([
    ...statusRows('weft-0', debugProxies({ debug: () => replica0 })),
    ...statusRows('weft-1', debugProxies({ debug: () => replica1 })),
  ]);

  it('verdicts: SYNCED, NACKED with the message, STALE; pods read from sidecar node ids', () => {
    expect(rows.map((r) => `${r.namespace}/${r.pod ?? r.proxy} ${r.replica} ${r.status}`)).toEqual([
      'billing/pay-6f8-qwert weft-1 STALE',
      'billing/vm-gateway weft-1 SYNCED',
      'shop/cart-55c-xyz12 weft-0 NACKED',
      'shop/web-7d9f-abcde weft-0 SYNCED',
    ]);
  });

  it('table, wide, json and yaml match their golden files', () => {
    golden('status.table.txt', formatStatus(rows, false, NOW));
    golden('status.wide.txt', formatStatus(rows, true, NOW));
    golden('status.json', `${JSON.stringify(rows, null, 2)}\n`);
    golden('status.yaml', stringify(rows));
    expect(formatStatus([], false, NOW)).toBe('No proxies connected.\n');
  });
});

describe('weftctl config output', async () => {
  const http = [{ name: 'http', port: 8080 }];
  const model = buildModel([
    service('web', http, { selector: { app: 'web' } }),
    service('web-v1', http, { selector: { app: 'web', v: '1' } }),
    service('web-v2', http, { selector: { app: 'web', v: '2' } }),
    slice('web-v1-1', 'web-v1', http, [{ ip: '10.0.0.1', ready: true, pod: 'web-1' }]),
    slice('web-v2-1', 'web-v2', http, [{ ip: '10.0.0.2', ready: true, pod: 'web-2' }]),
    split('web', 'web', { 'web-v1': 90, 'web-v2': 10 }),
  ]);
  const info: ProxyInfo = {
    id: 'client-1.shop',
    kind: 'sidecar',
    namespace: 'shop',
    labels: { app: 'client' },
    capture: true,
    identity: 'spiffe://cluster.local/ns/shop/sa/client',
  };
  const issuedAt = new Date('2026-01-01T00:00:00Z');
  const loaded = loadCa(await createRootCa({ now: issuedAt, commonName: 'weft root' }), { trustDomain: 'cluster.local' });
  if (!loaded.ok) throw new Error('ca');
  const svid = await loaded.ca.issueSvid({ namespace: 'shop', serviceAccount: 'client', now: issuedAt });
  if (!svid.ok) throw new Error('svid');
  const set = translate(model, info);
  const encoded = encodeResourceSet({
    ...set,
    secrets: [trustBundleSecret(loaded.ca.trustBundlePem), workloadCertSecret(svid.cert.chainPem, svid.cert.keyPem ?? '')],
  });
  const snapshot: CachedSnapshot = {
    version: 'snap-1',
    modelVersion: 'model-1',
    resources: encoded.resources,
    typeVersions: new Map(),
    edsNames: encoded.edsNames,
  };
  const [proxy] = debugProxies({ debug: () => [{ ...stream('client-1.shop', 'shop', { identity: info.identity! }), proxy: info }] });
  const served: ServedConfig = { ...(await proxyConfig(proxy!, snapshot)), replica: 'weft-0' };
  // Serial numbers are random per run; nothing else in the output is.
  const stable = (text: string): string => text.replace(/"serial": ?"?[0-9A-F]+"?/g, '"serial": "<serial>"').replace(/serial: [0-9A-F]+/g, 'serial: <serial>');

  it('the table of every section, one section, and json/yaml match their golden files', () => {
    golden('config.table.txt', formatProxyConfig(served, undefined));
    golden('config.routes.txt', formatProxyConfig(served, 'routes'));
    golden('config.secrets.txt', formatProxyConfig(served, 'secrets'));
    golden('config.clusters.json', `${JSON.stringify(configData(served, 'clusters'), null, 2)}\n`);
    golden('config.secrets.yaml', stable(stringify(configData(served, 'secrets'))));
  });

  it('secrets carry subjects, SANs and expiry, never key material or certificate bodies', () => {
    const all = JSON.stringify(served);
    expect(served.secrets.map((s) => `${s.name} ${s.kind} ${s.certificates[0]?.sans.join(',')}`)).toEqual([
      'ROOTCA trust-bundle ',
      'default certificate URI:spiffe://cluster.local/ns/shop/sa/client',
    ]);
    expect(all).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE|inlineBytes|privateKey/);
    expect(all).not.toContain(
      Buffer.from(svid.cert.keyPem ?? '')
        .toString('base64')
        .slice(30, 60),
    );
  });
});

/** An Authorizer that allows the cluster-wide right to `admin` and namespace rights from a table. */
function authorizer(rights: Record<string, readonly string[]>): Authorizer & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    describe: 'test',
    async check(req) {
      const user = req.authorization?.replace(/^Bearer /, '');
      asked.push(`${user}:${req.namespace ?? '*'}`);
      if (user === undefined || !(user in rights)) return { ok: false, status: 401, reason: 'who?' };
      if (user === 'admin') return { ok: true, user };
      return req.namespace !== undefined && rights[user]!.includes(req.namespace) ? { ok: true, user } : { ok: false, status: 403, reason: `${user} may not` };
    },
  };
}

describe('the debug API narrowed per namespace', () => {
  const streams = [...replica0, ...replica1];
  const ads = { debug: () => streams, pinnedSnapshot: () => undefined };
  const views = scopedDebugViews(ads);
  const scopeOf = async (user: string | undefined, rights: Record<string, readonly string[]>, perNamespace = true): Promise<ReadScope> => {
    const d = await resolveScope(authorizer(rights), user === undefined ? undefined : `Bearer ${user}`, perNamespace);
    if (!d.ok) throw new Error(`${d.status}`);
    return d.scope;
  };
  const rights = { admin: [], alice: ['shop'], nobody: [] };

  it('mesh-wide views refuse without the cluster-wide right; a bad credential is refused everywhere', async () => {
    expect(await resolveScope(authorizer(rights), 'Bearer alice', false)).toMatchObject({ ok: false, status: 403 });
    expect(await resolveScope(authorizer(rights), 'Bearer mallory', true)).toMatchObject({ ok: false, status: 401 });
    expect(await resolveScope(authorizer(rights), undefined, true)).toMatchObject({ ok: false, status: 401 });
    expect((await scopeOf('admin', rights)).all).toBe(true);
  });

  it('/debug/proxies: the caller sees the namespaces they may read; asking for another is 403 whether or not it has proxies', async () => {
    const alice = await scopeOf('alice', rights);
    const list = await views.proxies!({ scope: alice, query: {} });
    expect((list.body as ProxyDebug[]).map((p) => p.id)).toEqual(['cart-55c-xyz12.shop', 'web-7d9f-abcde.shop']);
    expect(await views.proxies!({ scope: alice, query: { namespace: 'billing' } })).toMatchObject({ status: 403 });
    expect(await views.proxies!({ scope: alice, query: { namespace: 'empty' } })).toMatchObject({ status: 403 });
    expect((await views.proxies!({ scope: await scopeOf('nobody', rights), query: {} })).body).toEqual([]);
    expect((await views.proxies!({ scope: await scopeOf('admin', rights), query: {} })).body).toHaveLength(4);
  });

  it('/debug/proxy-config: 403 for a namespace not readable, and one 404 for a proxy id that is missing or not readable', async () => {
    const alice = await scopeOf('alice', rights);
    expect(await views['proxy-config']!({ scope: alice, query: { namespace: 'billing', pod: 'pay-6f8-qwert' } })).toMatchObject({ status: 403 });
    const hidden = await views['proxy-config']!({ scope: alice, query: { id: 'pay-6f8-qwert.billing' } });
    const missing = await views['proxy-config']!({ scope: alice, query: { id: 'nothing.billing' } });
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(JSON.stringify(hidden.body).replace('pay-6f8-qwert', 'X')).toBe(JSON.stringify(missing.body).replace('nothing', 'X'));
    const own = await views['proxy-config']!({ scope: alice, query: { namespace: 'shop', pod: 'web-7d9f-abcde' } });
    expect(own.status).toBe(200);
    expect(await views['proxy-config']!({ scope: alice, query: { pod: 'web' } })).toMatchObject({ status: 400 });
  });

  it('the mesh graph keeps only readable namespaces: services, proxies, edges between two of them, their certificates', async () => {
    const view: MeshView = {
      generatedAt: 'now',
      modelVersion: 'mv',
      signals: { source: 'envoy-stats', intervalMs: 5000, windowSeconds: null, targets: 3, failed: 1 },
      services: ['shop/web', 'shop/cart', 'billing/pay'].map((id) => ({
        id,
        namespace: id.split('/')[0]!,
        name: id.split('/')[1]!,
        kind: 'service' as const,
        ports: [80],
        endpoints: { total: 1, ready: 1, meshed: 1 },
        mtlsMode: 'STRICT' as const,
        proxies: 1,
      })),
      edges: [
        ['shop/web', 'shop/cart'],
        ['shop/cart', 'billing/pay'],
      ].map(([source, destination]) => ({
        id: `${source}>${destination}`,
        source: source!,
        destination: destination!,
        port: 80,
        kind: 'traffic' as const,
        requestRate: 1,
        successRate: 1,
        p99Ms: 1,
        retryRate: 0,
        mtls: 'mtls' as const,
      })),
      proxies: [
        { id: 'a', namespace: 'shop', kind: 'sidecar', protocol: 'sotw', connectedSince: 'x', sync: 'synced', types: [], scrape: { state: 'ok' } },
        {
          id: 'b',
          namespace: 'billing',
          kind: 'sidecar',
          protocol: 'sotw',
          connectedSince: 'x',
          sync: 'synced',
          types: [],
          scrape: { state: 'error', error: 'e' },
        },
      ],
      certificates: [
        { kind: 'workload', subject: 'spiffe://cluster.local/ns/shop/sa/web', notAfter: 'x', expiresInSeconds: 1 },
        { kind: 'workload', subject: 'spiffe://cluster.local/ns/billing/sa/pay', notAfter: 'x', expiresInSeconds: 1 },
        { kind: 'serving', subject: 'weft.weft-system.svc', notAfter: 'x', expiresInSeconds: 1 },
      ],
    };
    const narrowed = await scopeMeshView(view, await scopeOf('alice', rights));
    expect(narrowed.services.map((s) => s.id)).toEqual(['shop/web', 'shop/cart']);
    expect(narrowed.edges.map((e) => e.id)).toEqual(['shop/web>shop/cart']);
    expect(narrowed.proxies.map((p) => p.id)).toEqual(['a']);
    expect(narrowed.certificates.map((c) => c.subject)).toEqual(['spiffe://cluster.local/ns/shop/sa/web']);
    expect(narrowed.signals).toMatchObject({ targets: 1, failed: 0 });
    expect(narrowed.modelVersion).toBeUndefined();
    expect(JSON.stringify(narrowed)).not.toContain('billing');
    expect(await scopeMeshView(view, await scopeOf('admin', rights))).toBe(view);
  });
});

describe('weftctl plumbing', () => {
  it('config positionals apart from flags and their values', () => {
    expect(splitPositionals(configCommand.flags, ['-n', 'shop', 'web-1', 'routes', '-o', 'json', '--debug-url=http://x'])).toEqual({
      positionals: ['web-1', 'routes'],
      flagArgs: ['-n', 'shop', '-o', 'json', '--debug-url=http://x'],
    });
  });

  it('the debug port from the controller Pod args, the monitoring port otherwise', () => {
    const pod = (args: string[]) => ({ spec: { containers: [{ args }] } });
    expect(debugPortOf(pod(['--monitoring-address=0.0.0.0:15014', '--debug-address=127.0.0.1:15015']))).toBe(15015);
    expect(debugPortOf(pod(['--monitoring-address=0.0.0.0:9000', '--debug-auth=kube']))).toBe(9000);
    expect(debugPortOf(pod([]))).toBe(15014);
  });

  it('refusals are one line naming what to do', () => {
    expect(refusal({ status: 401, body: { error: 'x' } }, false)).toContain('pass --token $(kubectl create token <serviceaccount>)');
    expect(refusal({ status: 403, body: { error: 'alice may not get proxies.mesh.weft.dev in namespace b' } }, true)).toMatch(
      /^the debug API refused: alice .*rolebinding/,
    );
    expect(refusal({ status: 404, body: {} }, true)).toBeUndefined();
    for (const s of [401, 403, 503, 500]) expect(refusal({ status: s, body: {} }, true)).not.toContain('\n');
  });
});
