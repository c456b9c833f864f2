// A real ADS client (grpc-js, our service definitions) that behaves like a sidecar: it
// subscribes to all clusters, then to the endpoints of every EDS cluster and to the route
// configuration of every service port (named like its cluster under capture, or the explicit
// proxy's one: it receives the routes of every Service, so every split and retry policy
// affects it), ACKs everything, and keeps the latest clusters and endpoints so tests can wait
// for what they expect.
import { fromBinary } from '@bufbuild/protobuf';
import type { Client } from '@grpc/grpc-js';
import { Cluster_DiscoveryType, ClusterSchema } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { EXPLICIT_OUTBOUND_ROUTE } from '../../../xds/resources/names.ts';
import { TypeUrl } from '../../../xds/resources/type-urls.ts';
import { envoyNode, newGrpcClient, SotwClient } from '../../../test/xds-server/support/client.ts';

export interface AdsWatcher {
  /** Cluster names currently held. */
  clusters(): ReadonlySet<string>;
  /** `ip:port` endpoints per EDS cluster name. */
  endpoints(cluster: string): readonly string[];
  /** Resolves with the time it took once `check` holds after any response (or now). */
  waitFor(check: () => boolean, timeoutMs?: number): Promise<number>;
  close(): void;
}

export function connectAds(port: number, opts: { id?: string; namespace?: string } = {}): AdsWatcher {
  const grpc: Client = newGrpcClient(port);
  const node = envoyNode(opts.id ?? `e2e-${process.pid}`, { WEFT_NAMESPACE: opts.namespace ?? 'default' });
  const client = new SotwClient(grpc, node);
  let clusters = new Set<string>();
  const eds = new Map<string, string[]>();
  let edsNames: string[] = [];
  let edsNonce = ''; // a subscription change must carry the last nonce of ITS type
  let rdsNames = '';
  let rdsNonce = '';
  let closed = false;
  const waiters = new Set<() => void>();

  client.request(TypeUrl.Cluster);
  void (async () => {
    while (!closed) {
      let res;
      try {
        res = await client.next(60_000);
      } catch {
        continue;
      }
      if (res.typeUrl === TypeUrl.Cluster) {
        const next = new Set<string>();
        const wantEds: string[] = [];
        for (const any of res.resources) {
          const c = fromBinary(ClusterSchema, any.value);
          next.add(c.name);
          if (c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS) {
            wantEds.push(c.edsClusterConfig?.serviceName || c.name);
          }
        }
        clusters = next;
        client.ack(res);
        wantEds.sort();
        if (wantEds.join(',') !== edsNames.join(',')) {
          edsNames = wantEds;
          client.request(TypeUrl.Endpoint, edsNames, edsNonce);
        }
        const wantRds = [...next]
          .filter((n) => n.startsWith('outbound|'))
          .concat(EXPLICIT_OUTBOUND_ROUTE)
          .sort();
        if (wantRds.join(',') !== rdsNames) {
          rdsNames = wantRds.join(',');
          client.request(TypeUrl.Route, wantRds, rdsNonce);
        }
      } else if (res.typeUrl === TypeUrl.Endpoint) {
        edsNonce = res.nonce;
        for (const any of res.resources) {
          const cla = fromBinary(ClusterLoadAssignmentSchema, any.value);
          const addrs: string[] = [];
          for (const group of cla.endpoints) {
            for (const lb of group.lbEndpoints) {
              const sa = lb.hostIdentifier.case === 'endpoint' ? lb.hostIdentifier.value.address?.address : undefined;
              if (sa?.case === 'socketAddress') {
                const p = sa.value.portSpecifier;
                addrs.push(`${sa.value.address}:${p.case === 'portValue' ? p.value : '?'}`);
              }
            }
          }
          eds.set(cla.clusterName, addrs.sort());
        }
        client.ack(res);
      } else {
        if (res.typeUrl === TypeUrl.Route) rdsNonce = res.nonce;
        client.ack(res);
      }
      for (const w of waiters) w();
    }
  })();

  return {
    clusters: () => clusters,
    endpoints: (name) => eds.get(name) ?? [],
    waitFor(check, timeoutMs = 15_000) {
      const t0 = performance.now();
      return new Promise((resolve, reject) => {
        const done = (): void => {
          if (!check()) return;
          cleanup();
          resolve(performance.now() - t0);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`ADS state not reached in ${timeoutMs} ms; clusters: ${[...clusters].join(', ')}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(done);
        };
        waiters.add(done);
        done();
      });
    },
    close() {
      closed = true;
      client.close();
      grpc.close();
    },
  };
}
