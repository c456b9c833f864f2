// The status writer's pure parts, through the real parse → buildModel pipeline: which
// conditions each CR should carry (an invalid CR, a conflicting split, a PeerAuth's proxy
// scope), when Programmed is True, and lastTransitionTime bookkeeping. The API side of
// the same writer runs in e2e/controller/controller.test.ts and leader.test.ts.
import { describe, expect, it } from 'vitest';
import { toEntry, type ConfigEntry } from '../../src/sources/kube-source.ts';
import type { ConfigObject } from '../../src/api/objects.ts';
import { proxyAcks, type ProxyView } from '../../src/runtime/controller/programmed.ts';
import { programmedCondition } from '../../src/runtime/controller/aggregate.ts';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import type { EncodedResource } from '../../xds/snapshot/types.ts';
import { desiredStatus, StatusWriter } from '../../src/runtime/controller/status-writer.ts';
import type { StatusCondition } from '../../src/api/observed-status.ts';
import { KubeClient } from '../../src/k8s/client.ts';
import { buildModel } from '../../src/model/build.ts';
import type { MeshModel } from '../../src/model/types.ts';
import type { ProxyInfo } from '../../xds/resources/proxy.ts';
import type { CachedSnapshot } from '../../xds/snapshot/types.ts';
import type { StreamDebug } from '../../xds/server/stream.ts';
import { KubeConfig } from '@kubernetes/client-node';

const ns = 'shop';
const meta = (name: string, generation = 1) => ({ name, namespace: ns, generation, resourceVersion: String(generation * 10) });
const svc = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: meta(name), spec: { ports: [{ port: 80 }] } });
const split = (name: string, root: string, backends: Record<string, number>, generation = 1) => ({
  apiVersion: 'mesh.weft.dev/v1alpha1',
  kind: 'TrafficSplit',
  metadata: meta(name, generation),
  spec: { service: root, backends: Object.entries(backends).map(([service, weight]) => ({ service, weight })) },
});
const peer = (name: string, selector?: Record<string, string>) => ({
  apiVersion: 'mesh.weft.dev/v1alpha1',
  kind: 'PeerAuth',
  metadata: meta(name),
  spec: { ...(selector ? { selector: { matchLabels: selector } } : {}), mtls: { mode: 'STRICT' } },
});

function proxy(id: string, namespace: string, labels: Record<string, string> = {}): ProxyInfo {
  return { id, kind: 'sidecar', namespace, labels, capture: true };
}

/**
 * A fake control plane: every proxy's group snapshot is `snap-<model>`, holding one route
 * configuration per Service (named as sidecars get them), which every proxy subscribes to;
 * `acked` says who ACKed it.
 */
function view(model: MeshModel, proxies: readonly ProxyInfo[], acked: ReadonlySet<string>, staleModel = false, nacked = new Set<string>()): ProxyView {
  const snapVersion = `snap-${model.version}`;
  const routeNames = [...model.services.values()].map((s) => `outbound|80||${s.name}.${s.namespace}.svc.cluster.local`);
  const routes = new Map(routeNames.map((name): [string, EncodedResource] => [name, { name, typeUrl: TypeUrl.Route, bytes: new Uint8Array(), version: '1' }]));
  const snapshot = {
    version: snapVersion,
    modelVersion: staleModel ? 'old' : model.version,
    resources: new Map([[TypeUrl.Route, routes]]),
  } as unknown as CachedSnapshot;
  return {
    model: () => model,
    snapshotFor: () => snapshot,
    streams: () =>
      proxies.map((p): StreamDebug => ({
        stream: p.id,
        protocol: 'sotw',
        proxy: p,
        group: p.namespace,
        connectedSince: '',
        snapshotVersion: snapVersion,
        types: [
          {
            typeUrl: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
            subscribed: '*',
            versionSent: 'v2',
            versionAcked: acked.has(p.id) ? 'v2' : 'v1',
            ...(nacked.has(p.id)
              ? { lastNack: { nonce: '7', version: 'v2', message: `Proto constraint validation failed\n (${'x'.repeat(400)})`, at: '' } }
              : {}),
          },
          { typeUrl: TypeUrl.Route, subscribed: routeNames, versionSent: 'r1', versionAcked: 'r1' },
        ] as StreamDebug['types'],
      })),
  };
}

function setup(
  raws: Record<string, unknown>[],
  proxies: readonly ProxyInfo[] = [],
  acked = new Set<string>(),
  settle: { pendingGraceMs?: number; programmedMessageIntervalMs?: number } = {},
  nacked = new Set<string>(),
) {
  const entries: ConfigEntry[] = raws.map((r) => toEntry(r.kind as ConfigEntry['kind'], r));
  const model = buildModel(entries.flatMap((e) => (e.result.ok ? [e.result.object as ConfigObject] : [])));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'x', server: 'http://127.0.0.1:1' }],
    users: [{ name: 'x' }],
    contexts: [{ name: 'x', cluster: 'x', user: 'x' }],
    currentContext: 'x',
  });
  const writer = new StatusWriter({
    client: new KubeClient(kc),
    policies: () => entries.filter((e) => e.status !== undefined),
    proxies: view(model, proxies, acked, false, nacked),
    isLeader: () => true,
    fieldManager: 'test',
    ...settle,
  });
  const plan = writer.plan(model);
  const of = (kind: string, name: string) =>
    Object.fromEntries((plan.get(`${kind} ${ns}/${name}`)?.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}: ${c.message}`]));
  return { model, plan, of };
}

describe('status plan', () => {
  it('an invalid CR is Accepted=False/Invalid, naming each bad field; it is not in the model', () => {
    const { of, model } = setup([svc('web'), split('bad', 'web', { web: -1 })]);
    expect(model.statuses).toEqual([]);
    expect(of('TrafficSplit', 'bad')).toEqual({
      Accepted: expect.stringMatching(/^False\/Invalid: Invalid TrafficSplit: spec\.backends\[0\]\.weight: must be between/),
      ResolvedRefs: 'Unknown/Invalid: Not evaluated: the resource is invalid',
      Programmed: 'False/NotAccepted: Not programmed: the resource is not accepted',
    });
  });

  it('Programmed counts the proxies that ACKed the current model, and is Unknown without proxies', () => {
    const raws = [svc('web'), svc('web-v2'), split('web', 'web', { web: 90, 'web-v2': 10 })];
    expect(setup(raws).of('TrafficSplit', 'web').Programmed).toBe('Unknown/NoProxies: No connected proxy is affected by this resource');
    const proxies = [proxy('a', ns), proxy('b', 'other'), proxy('c', ns)];
    expect(setup(raws, proxies, new Set(['a', 'c'])).of('TrafficSplit', 'web').Programmed).toBe(
      'False/Pending: 2/3 proxies acknowledged the current configuration; waiting for the rest',
    );
    expect(setup(raws, proxies, new Set(['a', 'b', 'c'])).of('TrafficSplit', 'web').Programmed).toBe(
      'True/Programmed: 3/3 proxies acknowledged the current configuration',
    );
  });

  it('a proxy that NACKed its current config makes Programmed False/Rejected, naming it and the start of Envoy’s message', () => {
    const raws = [svc('web'), svc('web-v2'), split('web', 'web', { web: 90, 'web-v2': 10 })];
    const proxies = [proxy('a', ns), proxy('b', ns), proxy('c', ns)];
    const { model, of } = setup(raws, proxies, new Set(['a']), {}, new Set(['b', 'c']));
    const acks = proxyAcks(view(model, proxies, new Set(['a']), false, new Set(['b', 'c'])));
    expect(acks.map((a) => a.rejected?.type)).toEqual([undefined, 'cds', 'cds']);
    const c = of('TrafficSplit', 'web').Programmed!;
    expect(c).toMatch(
      /^False\/Rejected: 1\/3 proxies acknowledged the current configuration; proxy b on replica test \(and 1 more\) rejected cds: Proto constraint validation failed \(x+\.\.\.$/,
    );
    expect(c.length).toBeLessThan(420);
    // A NACK of an older version, since superseded by an ACK, is history: not a rejection.
    expect(proxyAcks(view(model, proxies, new Set(['a', 'b', 'c']), false, new Set(['b'])))[1]).toMatchObject({ proxy: proxies[1], acked: true });
    expect(proxyAcks(view(model, proxies, new Set(['a', 'b', 'c']), false, new Set(['b'])))[1]?.rejected).toBeUndefined();
  });

  it('a proxy pinned to a snapshot of an older model has not acknowledged the current one', () => {
    const { model } = setup([svc('web')]);
    const acks = proxyAcks(view(model, [proxy('a', ns)], new Set(['a']), true));
    expect(acks.map((a) => a.acked)).toEqual([false]);
  });

  it('a PeerAuth affects only the proxies it selects; a losing TrafficSplit is not programmed', () => {
    const proxies = [proxy('pay', ns, { app: 'payments' }), proxy('web', ns, { app: 'web' }), proxy('elsewhere', 'other', { app: 'payments' })];
    const raws = [
      svc('web'),
      svc('a'),
      svc('b'),
      peer('payments', { app: 'payments' }),
      peer('namespace'),
      split('first', 'web', { a: 1 }),
      split('second', 'web', { b: 1 }),
    ];
    const { of } = setup(raws, proxies, new Set(['pay']));
    expect(of('PeerAuth', 'payments').Programmed).toBe('True/Programmed: 1/1 proxies acknowledged the current configuration');
    expect(of('PeerAuth', 'namespace').Programmed).toMatch(/^False\/Pending: 1\/2 proxies/);
    expect(of('TrafficSplit', 'second')).toMatchObject({
      Accepted: expect.stringMatching(/^False\/Conflicted/),
      Programmed: expect.stringMatching(/^False\/NotAccepted/),
    });
  });

  it('an AuthorizationPolicy affects the proxies behind its target Service, or its namespace', () => {
    const proxies = [proxy('pay', ns, { app: 'payments' }), proxy('web', ns, { app: 'web' }), proxy('elsewhere', 'other', { app: 'payments' })];
    const az = (name: string, spec: Record<string, unknown>) => ({
      apiVersion: 'mesh.weft.dev/v1alpha1',
      kind: 'AuthorizationPolicy',
      metadata: meta(name),
      spec,
    });
    const payments = { ...svc('payments'), spec: { selector: { app: 'payments' }, ports: [{ port: 80 }] } };
    const raws = [payments, az('pay', { targetRef: { kind: 'Service', name: 'payments' }, deny: [{}] }), az('all', { defaultAction: 'Deny' })];
    const { of } = setup(raws, proxies, new Set(['pay']));
    expect(of('AuthorizationPolicy', 'pay').Programmed).toBe('True/Programmed: 1/1 proxies acknowledged the current configuration');
    expect(of('AuthorizationPolicy', 'all').Programmed).toMatch(/^False\/Pending: 1\/2 proxies/);
  });

  it('a RateLimitPolicy affects the proxies of its target Service; a FaultPolicy every caller', () => {
    const proxies = [proxy('inv', ns, { app: 'inventory' }), proxy('web', ns, { app: 'web' })];
    const policy = (kind: string, spec: Record<string, unknown>) => ({
      apiVersion: 'mesh.weft.dev/v1alpha1',
      kind,
      metadata: meta('inventory'),
      spec: { targetRef: { kind: 'Service', name: 'inventory' }, ...spec },
    });
    const raws = [
      { ...svc('inventory'), spec: { selector: { app: 'inventory' }, ports: [{ port: 80 }] } },
      policy('RateLimitPolicy', { limit: { requests: 10 } }),
      policy('FaultPolicy', { abort: { httpStatus: 503 } }),
    ];
    const { of } = setup(raws, proxies, new Set(['inv']));
    expect(of('RateLimitPolicy', 'inventory').Programmed).toBe('True/Programmed: 1/1 proxies acknowledged the current configuration');
    expect(of('FaultPolicy', 'inventory').Programmed).toMatch(/^False\/Pending: 1\/2 proxies/);
  });

  it('waits for the model to catch up with a new generation before planning a CR', () => {
    const entries = [split('web', 'web', { web: 1 }, 2)].map((r) => toEntry('TrafficSplit', r));
    const oldModel = buildModel(
      [svc('web'), split('web', 'web', { web: 1 }, 1)]
        .map((r) => toEntry(r.kind as ConfigEntry['kind'], r))
        .flatMap((e) => (e.result.ok ? [e.result.object] : [])),
    );
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'x', server: 'http://127.0.0.1:1' }],
      users: [{ name: 'x' }],
      contexts: [{ name: 'x', cluster: 'x', user: 'x' }],
      currentContext: 'x',
    });
    const writer = new StatusWriter({
      client: new KubeClient(kc),
      policies: () => entries,
      proxies: view(oldModel, [], new Set()),
      isLeader: () => true,
      fieldManager: 't',
    });
    expect(writer.plan(oldModel).size).toBe(0);
  });

  it('keeps lastTransitionTime while a condition keeps its status, moves it when the status flips', () => {
    const observed = {
      observedGeneration: 1,
      conditions: [
        { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'old words', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' },
        { type: 'Programmed', status: 'Unknown', reason: 'NoProxies', message: '', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' },
      ] satisfies StatusCondition[],
    };
    const d = desiredStatus(
      [
        { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'new words' },
        { type: 'Programmed', status: 'True', reason: 'Programmed', message: '1/1' },
      ],
      2,
      observed,
      '2026-06-01T00:00:00Z',
    );
    expect(d.observedGeneration).toBe(2);
    expect(d.conditions.map((c) => [c.type, c.lastTransitionTime, c.observedGeneration])).toEqual([
      ['Accepted', '2026-01-01T00:00:00Z', 2],
      ['Programmed', '2026-06-01T00:00:00Z', 2],
    ]);
  });

  it('programmedCondition is honest about unresolved references', () => {
    const { model } = setup([svc('web'), split('web', 'web', { missing: 1 })]);
    const s = model.statuses[0]!;
    expect(programmedCondition(s, { affected: 1, acked: 1, rejected: 0, waitingFor: [] })).toMatchObject({ status: 'False', reason: 'RefsNotResolved' });
  });

  it('holds back a fresh Pending and proxy-count-only changes of Programmed (no status churn on every model change)', () => {
    const programmed = (status: string, reason: string, message: string) => ({
      observedGeneration: 1,
      conditions: [{ type: 'Programmed', status, reason, message, observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' }],
    });
    const raws = (status: unknown) => [svc('web'), svc('web-v2'), { ...split('web', 'web', { web: 90, 'web-v2': 10 }), status }];
    const proxies = [proxy('a', ns), proxy('b', ns)];
    // Was Programmed; the proxies have not ACKed the new model yet: keep saying Programmed for now.
    const wasTrue = programmed('True', 'Programmed', '2/2 proxies acknowledged the current configuration');
    expect(setup(raws(wasTrue), proxies, new Set(['a'])).of('TrafficSplit', 'web').Programmed).toBe(
      'True/Programmed: 2/2 proxies acknowledged the current configuration',
    );
    // ... unless the grace is over.
    expect(setup(raws(wasTrue), proxies, new Set(['a']), { pendingGraceMs: 0 }).of('TrafficSplit', 'web').Programmed).toMatch(/^False\/Pending: 1\/2/);
    // A third proxy joined and ACKed: 3/3 replaces 2/2 only at the message interval.
    const three = [...proxies, proxy('c', ns)];
    const all = new Set(['a', 'b', 'c']);
    expect(setup(raws(wasTrue), three, all, { programmedMessageIntervalMs: 0 }).of('TrafficSplit', 'web').Programmed).toMatch(/^True\/Programmed: 3\/3/);
    // Status changes are never held: Unknown/NoProxies → True at once.
    const wasNone = programmed('Unknown', 'NoProxies', 'No connected proxy is affected by this resource');
    expect(setup(raws(wasNone), three, all).of('TrafficSplit', 'web').Programmed).toMatch(/^True\/Programmed: 3\/3/);
  });
});
