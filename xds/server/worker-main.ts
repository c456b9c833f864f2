// An xDS worker thread (workers.ts): its own grpc-js server listening on the shared port
// (SO_REUSEPORT: the kernel spreads connections over the workers), its own AdsServer and
// streams, and snapshots received from the primary, which translates once for all workers.
// Admission (the authentication hook and the scope check) runs in the primary: it holds the
// token verifier's keys, the pod informer and the model.
import { ServerCredentials } from '@grpc/grpc-js';
import { parentPort, workerData } from 'node:worker_threads';
import { log as rootLog } from '../../src/base/log.ts';
import { metricsRegistry } from '../../src/base/metrics.ts';
import { proxyGroupKey, type ProxyInfo } from '../resources/proxy.ts';
import type { CachedSnapshot } from '../snapshot/types.ts';
import type { SnapshotWatch } from '../snapshot/cache.ts';
import type { Admission, Admit } from './admit.ts';
import { AdsServer } from './ads.ts';
import { withHandshakeTimeout, xdsGrpcServer } from './grpc-server.ts';
import { listenXds } from './listen.ts';
import { decodeSnapshot, type WireSnapshot } from './snapshot-wire.ts';
import type { SnapshotSource } from './stream-types.ts';
import { setStreamIdPrefix } from './stream.ts';
import { credentialsFrom } from './tls.ts';
import type { ToPrimary, ToWorker, WorkerData } from './worker-protocol.ts';

const data = workerData as WorkerData;
const port = parentPort!;
const post = (m: ToPrimary): void => port.postMessage(m);
const log = rootLog.child({ xdsWorker: data.index });

interface Group {
  readonly watchers: Set<() => void>;
  snapshot?: CachedSnapshot;
  /** A resync was asked: snapshots relative to an earlier one are ignored until a whole one comes. */
  resyncing: boolean;
}

/** Snapshots as the primary sends them, per group this worker's streams watch. */
class RemoteSource implements SnapshotSource {
  readonly remote = true;
  readonly #groups = new Map<string, Group>();

  watch(proxy: ProxyInfo, listener: () => void): SnapshotWatch {
    const key = proxyGroupKey(proxy);
    let g = this.#groups.get(key);
    if (g === undefined) {
      g = { watchers: new Set(), resyncing: false };
      this.#groups.set(key, g);
      post({ t: 'watch', key, proxy });
    }
    const group = g;
    group.watchers.add(listener);
    return {
      groupKey: key,
      snapshot: () => group.snapshot,
      cancel: () => {
        if (!group.watchers.delete(listener) || group.watchers.size > 0) return;
        this.#groups.delete(key);
        post({ t: 'unwatch', key });
      },
    };
  }

  receive(w: WireSnapshot): void {
    const g = this.#groups.get(w.key);
    if (g === undefined || (g.resyncing && !w.full)) return;
    const snap = decodeSnapshot(w, w.full ? undefined : g.snapshot);
    if (snap === undefined) {
      g.resyncing = true;
      post({ t: 'resync', key: w.key });
      return;
    }
    g.resyncing = false;
    g.snapshot = snap;
    for (const l of g.watchers) l();
  }
}

let admitSeq = 0;
const admitting = new Map<number, (a: Admission) => void>();

const admitInPrimary: Admit = (call, node, proxy) =>
  new Promise((resolve) => {
    const id = ++admitSeq;
    admitting.set(id, resolve);
    const raw = call.getAuthContext().sslPeerCertificate?.raw;
    post({
      t: 'admit',
      id,
      authorization: call.metadata.get('authorization').map(String),
      peer: call.getPeer(),
      ...(raw !== undefined ? { certificate: new Uint8Array(raw) } : {}),
      nodeId: node.id,
      proxy,
    });
  });

setStreamIdPrefix(`w${data.index}s`); // stream ids stay unique across workers (debug views look streams up by id)
const source = new RemoteSource();
const tls = data.tls !== undefined ? credentialsFrom(data.tls) : undefined;
const credentials = tls?.credentials ?? ServerCredentials.createInsecure();
withHandshakeTimeout(credentials, data.timeouts.handshakeMs);
const server = xdsGrpcServer(data.limits, data.timeouts);
const ads = new AdsServer({
  cache: source,
  log,
  limits: data.limits,
  ...(data.admit ? { admit: admitInPrimary } : {}),
  ...(data.debounce !== undefined ? { debounce: data.debounce } : {}),
  ...(data.flushBatch !== undefined ? { flushBatch: data.flushBatch } : {}),
});
ads.addTo(server);
const listener = await listenXds(server, data.address, credentials, data.acceptBacklog, true);

// The primary sums connected proxies; counted here at most 5 times a second, not per stream.
let reported = -1;
const report = setInterval(() => {
  if (ads.connected === reported) return;
  reported = ads.connected;
  post({ t: 'connected', n: reported });
}, 200);
report.unref();

function close(): void {
  clearInterval(report);
  listener.close();
  ads.close();
  const done = (): void => post({ t: 'closed' });
  const force = setTimeout(() => {
    server.forceShutdown();
    done();
  }, data.shutdownGraceMs ?? 5_000);
  server.tryShutdown(() => {
    clearTimeout(force);
    // The primary ends this thread on `closed`: let the sockets flush the streams' last status first.
    setTimeout(done, 100);
  });
}

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'snapshot':
      source.receive(m.snapshot);
      break;
    case 'admitted':
      admitting.get(m.id)?.(m.admission);
      admitting.delete(m.id);
      break;
    case 'debug':
      post({ t: 'debug', id: m.id, streams: ads.debug() });
      break;
    case 'pinned':
      post({ t: 'pinned', id: m.id, snapshot: ads.pinnedSnapshot(m.stream) });
      break;
    case 'metrics':
      void metricsRegistry.getMetricsAsJSON().then((metrics) => post({ t: 'metrics', id: m.id, metrics }));
      break;
    case 'tls':
      tls?.update(m.material);
      break;
    case 'close':
      close();
      break;
  }
});
post({ t: 'ready' });
