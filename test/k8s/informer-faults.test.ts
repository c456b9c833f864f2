// Supervised informers and the KubeSource under the failures @kubernetes/client-node's
// ListWatch does not survive (issues #364, #958, #1933): 5xx lists, 403 watches, silent
// watches, 410 in the middle of a stream, missing CRDs, invalid objects. A scripted fake API
// server produces them on cue; the real-API-server behaviour is in e2e/controller/controller.test.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeSource } from '../../src/sources/kube-source.ts';
import type { ConfigState } from '../../src/sources/source.ts';
import { KubeClient } from '../../src/k8s/client.ts';
import { SupervisedInformer } from '../../src/k8s/informer.ts';
import { matchesSelector, parseLabelSelector } from '../../src/k8s/label-selector.ts';
import { Resources, collectionPath } from '../../src/k8s/resources.ts';
import { metricsRegistry } from '../../src/base/metrics.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { listBody, sendEvent, startFakeApiServer, startWatch, statusBody, type FakeApiServer } from '../support/fake-apiserver.ts';

const SERVICES = collectionPath(Resources.Service);
const fast = { backoff: { initialMs: 20, maxMs: 200 }, watchTimeoutSeconds: 60 };

function svc(name: string, rv: string, port = 80): unknown {
  return { metadata: { name, namespace: 'shop', resourceVersion: rv }, spec: { ports: [{ port }] } };
}

let server: FakeApiServer | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await server?.close();
  server = undefined;
});

async function informer(s: FakeApiServer, extra: { stallTimeoutMs?: number } = {}) {
  const inf = new SupervisedInformer({
    client: new KubeClient(s.kubeConfig),
    resource: Resources.Service,
    transform: (raw) => raw as { metadata: { name: string; resourceVersion: string } },
    ...fast,
    ...extra,
  });
  inf.start();
  cleanups.push(() => inf.stop());
  return inf;
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

async function restartsFor(resource: string, reason: string): Promise<number> {
  const m = await metricsRegistry.getSingleMetric('weft_informer_restarts_total')?.get();
  return m?.values.find((v) => v.labels.resource === resource && v.labels.reason === reason)?.value ?? 0;
}

const hang = (_req: unknown, res: Parameters<typeof startWatch>[0]): void => startWatch(res);

describe('supervised informer', () => {
  it('retries a list that answers 500 until it succeeds, then reports synced', async () => {
    server = await startFakeApiServer();
    let lists = 0;
    server.route(SERVICES, {
      list: (_q, res) => {
        if (++lists <= 2) res.writeHead(500).end(statusBody(500, 'InternalError'));
        else res.end(listBody([svc('a', '5'), svc('b', '6')], '10'));
      },
      watch: hang,
    });
    const before = await restartsFor('services', 'server_error');
    const inf = await informer(server);
    expect(inf.synced).toBe(false);
    await inf.waitForSync();
    expect(
      inf
        .list()
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(inf.status()).toMatchObject({ synced: true, restarts: 2, lastError: { statusCode: 500 } });
    expect((await restartsFor('services', 'server_error')) - before).toBe(2);
  });

  it('survives a 403 on the watch: restarts with backoff and resumes from the listed resourceVersion', async () => {
    server = await startFakeApiServer();
    let watches = 0;
    server.route(SERVICES, {
      list: (_q, res) => res.end(listBody([svc('a', '5')], '10')),
      watch: (_q, res) => {
        if (++watches === 1) return void res.writeHead(403).end(statusBody(403, 'Forbidden', 'services is forbidden'));
        startWatch(res);
        sendEvent(res, 'ADDED', svc('c', '11'));
      },
    });
    const inf = await informer(server);
    await until(() => inf.get('shop', 'c') !== undefined);
    expect(inf.status().lastError).toMatchObject({ statusCode: 403, reason: 'forbidden' });
    const watchReqs = server.requests.filter((r) => r.includes('watch=1'));
    expect(watchReqs[1]).toContain('resourceVersion=10');
    expect(watchReqs[1]).toContain('allowWatchBookmarks=true');
    expect(server.requests.filter((r) => !r.includes('watch=1'))).toHaveLength(1); // no relist needed
  });

  it('restarts a watch that goes silent (watchdog), without relisting', async () => {
    server = await startFakeApiServer();
    let watches = 0;
    server.route(SERVICES, {
      list: (_q, res) => res.end(listBody([svc('a', '5')], '10')),
      watch: (_q, res) => {
        startWatch(res);
        if (++watches >= 2) sendEvent(res, 'ADDED', svc('late', '12'));
        // the first watch: headers, then nothing at all
      },
    });
    const before = await restartsFor('services', 'stalled');
    const t0 = performance.now();
    const inf = await informer(server, { stallTimeoutMs: 300 });
    await until(() => inf.get('shop', 'late') !== undefined);
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThan(2000);
    expect((await restartsFor('services', 'stalled')) - before).toBe(1);
    expect(server.requests.filter((r) => !r.includes('watch=1'))).toHaveLength(1);
  });

  it('bookmarks keep a quiet watch alive and advance the resourceVersion it resumes from', async () => {
    server = await startFakeApiServer();
    let watches = 0;
    server.route(SERVICES, {
      list: (_q, res) => res.end(listBody([svc('a', '5')], '10')),
      watch: (_q, res) => {
        startWatch(res);
        if (++watches > 1) return;
        let rv = 10;
        const t = setInterval(() => sendEvent(res, 'BOOKMARK', { metadata: { resourceVersion: String(++rv) } }), 100);
        setTimeout(() => {
          clearInterval(t);
          res.end(); // the server ends the watch (its timeoutSeconds), as kube-apiserver does
        }, 1200);
      },
    });
    const inf = await informer(server, { stallTimeoutMs: 400 });
    await until(() => watches === 2, 4000);
    expect(inf.status().restarts).toBe(0);
    const last = server.requests.filter((r) => r.includes('watch=1')).at(-1)!;
    expect(Number(/resourceVersion=(\d+)/.exec(last)?.[1])).toBeGreaterThanOrEqual(18);
  });

  it('relists at once after a 410 Gone in the middle of a stream, dropping what disappeared', async () => {
    server = await startFakeApiServer();
    let lists = 0;
    server.route(SERVICES, {
      list: (_q, res) => {
        lists++;
        res.end(lists === 1 ? listBody([svc('a', '5'), svc('b', '6')], '10') : listBody([svc('b', '6'), svc('d', '30')], '30'));
      },
      watch: (_q, res) => {
        startWatch(res);
        if (lists === 1) {
          sendEvent(res, 'MODIFIED', svc('a', '11', 81));
          sendEvent(res, 'ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
        }
      },
    });
    const inf = await informer(server);
    await until(() => lists === 2 && inf.get('shop', 'd') !== undefined);
    expect(
      inf
        .list()
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['b', 'd']);
    expect(inf.status().lastError).toMatchObject({ statusCode: 410, reason: 'gone' });
  });
});

describe('KubeSource over a faulty API server', () => {
  function routeAll(s: FakeApiServer, lists: Partial<Record<keyof typeof Resources, () => { code: number; body: string }>>): void {
    for (const [kind, ref] of Object.entries(Resources)) {
      if (kind === 'Lease') continue;
      s.route(collectionPath(ref), {
        list: (_q, res) => {
          const answer = lists[kind as keyof typeof Resources]?.() ?? { code: 200, body: listBody([], '1') };
          res.writeHead(answer.code, { 'content-type': 'application/json' }).end(answer.body);
        },
        watch: hang,
      });
    }
  }

  it('waits for every informer (a missing CRD is retried), then emits the whole state with invalid objects as problems', async () => {
    server = await startFakeApiServer();
    let splitLists = 0;
    routeAll(server, {
      TrafficSplit: () => (++splitLists <= 3 ? { code: 404, body: '404 page not found' } : { code: 200, body: listBody([], '1') }),
      Service: () => ({ code: 200, body: listBody([svc('web', '5'), svc('bad', '6', 70000)], '7') }),
    });
    const source = new KubeSource({ client: new KubeClient(server.kubeConfig), informer: fast });
    cleanups.push(() => source.stop());
    const states: ConfigState[] = [];
    await source.start((s) => states.push(s));
    expect(splitLists).toBe(4);
    expect(source.synced).toBe(true);
    expect(states).toHaveLength(1);
    expect(states[0]!.objects.map((o) => `${o.kind} ${o.metadata.name}`)).toEqual(['Service web']);
    expect(states[0]!.problems).toEqual([{ source: 'Service shop/bad', field: 'spec.ports[0].port', reason: expect.stringContaining('between 1 and 65535') }]);
    const splits = source.informers().find((i) => i.resource === 'trafficsplits');
    expect(splits).toMatchObject({ synced: true, restarts: 3, lastError: { statusCode: 404, reason: 'not_found' } });
  });

  it('coalesces a burst of events into one debounced emit of the whole state', async () => {
    server = await startFakeApiServer();
    routeAll(server, {});
    let watchRes: Parameters<typeof startWatch>[0] | undefined;
    server.route(SERVICES, {
      list: (_q, res) => res.end(listBody([], '1')),
      watch: (_q, res) => {
        startWatch(res);
        watchRes = res;
      },
    });
    // The debounce runs on a clock the test moves; the informers' HTTP runs on real time.
    const clock = new ManualClock();
    const source = new KubeSource({ client: new KubeClient(server.kubeConfig), informer: fast, holdoffMs: 100, maxDelayMs: 500, clock });
    cleanups.push(() => source.stop());
    const states: ConfigState[] = [];
    await source.start((state) => states.push(state));
    await until(() => watchRes !== undefined);
    for (let i = 0; i < 20; i++) sendEvent(watchRes!, 'ADDED', svc(`s${i}`, String(10 + i)));
    await until(() => source.state().objects.length === 20); // every event is in the informer
    expect(states).toHaveLength(1); // only the first (synced) state: the burst is held
    expect(clock.pending).toBe(1); // one debounce timer for all 20
    clock.advance(99);
    expect(states).toHaveLength(1);
    clock.advance(1);
    expect(states).toHaveLength(2); // then ONE state with all 20
    expect(states[1]!.objects).toHaveLength(20);
    // an event that changes nothing Weft reads (same content, new resourceVersion) emits nothing
    sendEvent(watchRes!, 'MODIFIED', svc('s0', '99'));
    await until(() => source.state().objects.some((o) => o.metadata.name === 's0' && o.metadata.resourceVersion === '99'));
    expect(clock.pending).toBe(0); // nothing armed
    clock.advance(1_000);
    expect(states).toHaveLength(2);
  });

  it('with a discovery selector, serves only namespaces whose labels match, following label changes', async () => {
    server = await startFakeApiServer();
    routeAll(server, {});
    const inNs = (name: string) => ({ metadata: { name, namespace: 'in', resourceVersion: '5' }, spec: { ports: [{ port: 80 }] } });
    server.route(SERVICES, { list: (_q, res) => res.end(listBody([inNs('a'), svc('b', '6')], '7')), watch: hang });
    let nsWatch: Parameters<typeof startWatch>[0] | undefined;
    server.route(collectionPath(Resources.Namespace), {
      list: (_q, res) => res.end(listBody([{ metadata: { name: 'in', labels: { mesh: 'a' } } }, { metadata: { name: 'shop', labels: { mesh: 'b' } } }], '3')),
      watch: (_q, res) => {
        startWatch(res);
        nsWatch = res;
      },
    });
    const source = new KubeSource({ client: new KubeClient(server.kubeConfig), informer: fast, namespaceSelector: parseLabelSelector('mesh=a') });
    cleanups.push(() => source.stop());
    const states: ConfigState[] = [];
    await source.start((s) => states.push(s));
    expect(states[0]!.objects.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['in/a']);
    await until(() => nsWatch !== undefined);
    sendEvent(nsWatch!, 'MODIFIED', { metadata: { name: 'shop', resourceVersion: '9', labels: { mesh: 'a' } } });
    await until(() => states.length === 2);
    expect(states[1]!.objects.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['in/a', 'shop/b']);
  });
});

describe('label selectors', () => {
  it('parses and matches the equality-based forms', () => {
    const sel = parseLabelSelector('app=web, tier!=db,weft.dev/mesh,!legacy');
    expect(sel).toHaveLength(4);
    expect(matchesSelector(sel, { app: 'web', 'weft.dev/mesh': '' })).toBe(true);
    expect(matchesSelector(sel, { app: 'web', 'weft.dev/mesh': 'x', tier: 'db' })).toBe(false);
    expect(matchesSelector(sel, { app: 'web', 'weft.dev/mesh': 'x', legacy: 'y' })).toBe(false);
    expect(matchesSelector(sel, { app: 'api', 'weft.dev/mesh': 'x' })).toBe(false);
    expect(() => parseLabelSelector('a=b=c')).toThrow(/invalid label/);
    expect(() => parseLabelSelector('!a=b')).toThrow(/invalid label selector term/);
  });
});
