// The mesh view as data (pure): the model's Services and splits, the connected proxies and
// their sync state, the per-edge signals from the last scrape, and certificate expiry, shaped
// as shape.ts says. Nothing here reads a key, a token or a certificate body.
import type { StreamDebug } from '../../../xds/server/stream-debug.ts';
import { effectiveMtls } from '../../model/mtls.ts';
import type { MeshModel, MeshService } from '../../model/types.ts';
import { compareStrings } from '../../base/order.ts';
import { addDelta, emptyDelta, signalsOf, type Delta } from './edge-stats.ts';
import type { TargetResult } from './scraper.ts';
import type { MeshView, MeshViewCertificateT, MeshViewEdgeT, MeshViewProxyT, MeshViewServiceT } from './shape.ts';

export interface CertificateInfo {
  readonly kind: 'workload' | 'serving';
  readonly subject: string;
  readonly notAfter: string;
}

export interface GraphInputs {
  readonly model: MeshModel | undefined;
  readonly streams: readonly StreamDebug[];
  /** Scrape results by stream id. */
  readonly scrapes: ReadonlyMap<string, TargetResult>;
  readonly round: { at: string; windowSeconds: number | null; targets: number; failed: number } | undefined;
  readonly intervalMs: number;
  readonly certificates: readonly CertificateInfo[];
  readonly now: number;
}

/** `outbound|8080||checkout.shop.svc.cluster.local` → shop/checkout, 8080. */
export function parseOutboundCluster(name: string): { id: string; port: number } | undefined {
  const m = /^outbound\|(\d+)\|[^|]*\|([^.]+)\.([^.]+)\./.exec(name);
  return m ? { id: `${m[3]}/${m[2]}`, port: Number(m[1]) } : undefined;
}

/**
 * The graph node a proxy speaks for: its Service, else its workload's name label
 * (`app.kubernetes.io/name`, then `app`: every replica of a client is one node), else its node id.
 */
export function callerId(s: Pick<StreamDebug, 'proxy'>): string {
  const p = s.proxy;
  return `${p.namespace}/${p.service ?? p.labels['app.kubernetes.io/name'] ?? p.labels.app ?? p.id}`;
}

function shortType(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('.') + 1);
}

function proxyView(s: StreamDebug, scrape: TargetResult | undefined): MeshViewProxyT {
  const types = s.types.map((t) => ({
    type: shortType(t.typeUrl),
    sent: t.versionSent,
    acked: t.versionAcked,
    ...(t.lastNack !== undefined && t.versionAcked !== t.versionSent && !t.holdsLatest ? { nack: t.lastNack.message.slice(0, 300) } : {}),
  }));
  const synced = s.types.every((t) => t.versionSent === t.versionAcked || t.holdsLatest === true);
  const sync = types.some((t) => t.nack !== undefined) ? 'nacked' : synced ? 'synced' : 'stale';
  return {
    id: s.proxy.id,
    namespace: s.proxy.namespace,
    ...(s.proxy.service !== undefined ? { service: s.proxy.service } : {}),
    ...(s.proxy.identity !== undefined ? { identity: s.proxy.identity } : {}),
    kind: s.proxy.kind,
    protocol: s.protocol,
    connectedSince: s.connectedSince,
    sync,
    types,
    scrape:
      scrape === undefined
        ? { state: 'none' }
        : { state: scrape.state, at: scrape.at, ...(scrape.error !== undefined ? { error: scrape.error.slice(0, 200) } : {}) },
  };
}

function endpointCounts(svc: MeshService): MeshViewServiceT['endpoints'] {
  const all = new Map<string, { ready: boolean; meshed: boolean }>();
  for (const p of svc.ports) {
    for (const e of p.endpoints) {
      const prev = all.get(e.address);
      all.set(e.address, { ready: (prev?.ready ?? false) || e.ready, meshed: (prev?.meshed ?? false) || (e.ready && e.meshed === true) });
    }
  }
  const v = [...all.values()];
  return { total: v.length, ready: v.filter((e) => e.ready).length, meshed: v.filter((e) => e.meshed).length };
}

function edgeMtls(svc: MeshService | undefined, port: number): MeshViewEdgeT['mtls'] {
  const ready = svc?.ports.find((p) => p.port === port)?.endpoints.filter((e) => e.ready) ?? [];
  if (ready.length === 0) return 'none';
  const meshed = ready.filter((e) => e.meshed === true).length;
  return meshed === ready.length ? 'mtls' : meshed === 0 ? 'plaintext' : 'mixed';
}

export function buildMeshView(inp: GraphInputs): MeshView {
  const model = inp.model;
  const services = new Map<string, MeshViewServiceT>();
  const proxiesPer = new Map<string, number>();
  for (const s of inp.streams) proxiesPer.set(callerId(s), (proxiesPer.get(callerId(s)) ?? 0) + 1);
  for (const [key, svc] of model?.services ?? []) {
    services.set(key, {
      id: key,
      namespace: svc.namespace,
      name: svc.name,
      kind: 'service',
      ports: svc.ports.map((p) => p.port),
      endpoints: endpointCounts(svc),
      mtlsMode: model ? effectiveMtls(model, { namespace: svc.namespace, labels: svc.selector ?? {} }) : 'PERMISSIVE',
      ...(svc.split ? { split: svc.split.policy } : {}),
      proxies: proxiesPer.get(key) ?? 0,
    });
  }
  for (const s of inp.streams) {
    const id = callerId(s);
    if (services.has(id)) continue;
    services.set(id, {
      id,
      namespace: s.proxy.namespace,
      name: id.slice(id.indexOf('/') + 1),
      kind: 'workload',
      ports: [],
      endpoints: { total: 0, ready: 0, meshed: 0 },
      mtlsMode: model ? effectiveMtls(model, { namespace: s.proxy.namespace, labels: s.proxy.labels }) : 'PERMISSIVE',
      proxies: proxiesPer.get(id) ?? 0,
    });
  }

  // Observed traffic: every caller's deltas per destination cluster, summed per (caller, destination, port).
  const traffic = new Map<string, { source: string; destination: string; port: number; delta: Delta }>();
  const observed = inp.round?.windowSeconds !== null && inp.round?.windowSeconds !== undefined;
  for (const s of inp.streams) {
    const deltas = inp.scrapes.get(s.stream)?.deltas;
    if (deltas === undefined) continue;
    for (const [cluster, d] of deltas) {
      const dest = parseOutboundCluster(cluster);
      if (dest === undefined || d.requests === 0) continue;
      const key = `${callerId(s)}>${dest.id}:${dest.port}`;
      const prev = traffic.get(key);
      traffic.set(key, { source: callerId(s), destination: dest.id, port: dest.port, delta: addDelta(prev?.delta ?? emptyDelta(), d) });
    }
  }
  const edges: MeshViewEdgeT[] = [];
  const inbound = new Map<string, number>(); // destination:port → observed request rate
  for (const [id, t] of traffic) {
    const sig = signalsOf(t.delta);
    inbound.set(`${t.destination}:${t.port}`, (inbound.get(`${t.destination}:${t.port}`) ?? 0) + sig.requestRate);
    edges.push({
      id,
      source: t.source,
      destination: t.destination,
      port: t.port,
      kind: 'traffic',
      ...sig,
      mtls: edgeMtls(model?.services.get(t.destination as `${string}/${string}`), t.port),
    });
  }

  // Splits as programmed: root → backend, weights normalised, and the observed share.
  for (const [key, svc] of model?.services ?? []) {
    const split = svc.split;
    if (split === undefined) continue;
    const sum = split.backends.reduce((a, b) => a + b.weight, 0);
    for (const port of svc.ports.map((p) => p.port)) {
      const rates = split.backends.map((b) => inbound.get(`${svc.namespace}/${b.service}:${port}`) ?? 0);
      const total = rates.reduce((a, b) => a + b, 0);
      split.backends.forEach((b, i) => {
        const dest = `${svc.namespace}/${b.service}`;
        edges.push({
          id: `${key}=>${dest}:${port}`,
          source: key,
          destination: dest,
          port,
          kind: 'split',
          requestRate: observed ? rates[i]! : null,
          successRate: null,
          p99Ms: null,
          retryRate: null,
          weight: sum > 0 ? (b.weight * 100) / sum : 0,
          observedShare: observed && total > 0 ? (rates[i]! * 100) / total : null,
          mtls: edgeMtls(model?.services.get(dest as `${string}/${string}`), port),
        });
      });
    }
  }

  const certificates: MeshViewCertificateT[] = inp.certificates
    .map((c) => ({ ...c, expiresInSeconds: Math.round((Date.parse(c.notAfter) - inp.now) / 1000) }))
    .sort((a, b) => a.expiresInSeconds - b.expiresInSeconds || compareStrings(a.subject, b.subject));

  return {
    generatedAt: new Date(inp.now).toISOString(),
    ...(model ? { modelVersion: model.version } : {}),
    signals: {
      source: 'envoy-stats',
      intervalMs: inp.intervalMs,
      windowSeconds: inp.round?.windowSeconds ?? null,
      ...(inp.round ? { lastScrapeAt: inp.round.at } : {}),
      targets: inp.round?.targets ?? 0,
      failed: inp.round?.failed ?? 0,
    },
    services: [...services.values()].sort((a, b) => compareStrings(a.id, b.id)),
    edges: edges.sort((a, b) => compareStrings(a.id, b.id)),
    proxies: inp.streams.map((s) => proxyView(s, inp.scrapes.get(s.stream))).sort((a, b) => compareStrings(a.id, b.id)),
    certificates,
  };
}
