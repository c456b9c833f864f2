// A two-sidecar mesh on loopback for the telemetry tests and the overhead benchmark:
//   load → client Envoy (explicit outbound proxy, workload "web")
//        → server Envoy (explicit inbound on checkout's endpoint port, workload "checkout")
//        → the demo backend (failing every 10th request with 503 when asked)
// `weft serve` programs both from a mesh directory written here. With `sidecars: 1` the
// endpoint is the backend itself (one Envoy on the path: the benchmark).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderBootstrap } from '../../xds/bootstrap/bootstrap.ts';
import type { ProxyTelemetry } from '../../xds/bootstrap/telemetry.ts';
import { startBackend, type Backend, type FailPattern } from '../support/backends.ts';
import { startEnvoy, type EnvoyHandle } from '../support/envoy.ts';
import { waitForRoute } from '../support/envoy-routes.ts';
import { freePort } from '../support/free-port.ts';
import { startWeftServe, type WeftServe } from '../support/weft-serve.ts';

export const CHECKOUT_HOST = 'checkout.shop:8080';
export const CHECKOUT_URL = `http://${CHECKOUT_HOST}/`;
export const TRUST_DOMAIN = 'cluster.local';
export const identityOf = (sa: string) => `spiffe://${TRUST_DOMAIN}/ns/shop/sa/${sa}`;

export interface TelemetryMeshOptions {
  readonly sidecars: 1 | 2;
  readonly failPattern?: FailPattern;
  /** Telemetry switches for every sidecar (stats tags always; the OTLP address only if given). */
  readonly accessLog?: boolean;
  readonly traceSampling?: number;
  readonly otlpAddress?: string;
}

export interface TelemetryMesh {
  readonly backend: Backend;
  readonly weft: WeftServe;
  readonly client: EnvoyHandle;
  readonly server?: EnvoyHandle;
  /** The client Envoy's outbound HTTP proxy port. */
  readonly outboundPort: number;
  /** The Envoys' Prometheus endpoints (admin /stats/prometheus), by workload. */
  readonly scrapeTargets: { job: string; address: string; path: string }[];
  stop(): Promise<void>;
}

function meshYaml(targetPort: number, endpointPort: number): string {
  return `apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: shop, labels: {app: checkout}}
spec:
  selector: {app: checkout}
  ports: [{name: http, port: 8080, targetPort: ${targetPort}, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: checkout-telemetry
  namespace: shop
  labels: {kubernetes.io/service-name: checkout}
addressType: IPv4
ports: [{name: http, port: ${endpointPort}, protocol: TCP}]
endpoints:
  - addresses: ["127.0.0.1"]
    conditions: {ready: true, serving: true, terminating: false}
`;
}

export async function startTelemetryMesh(opts: TelemetryMeshOptions): Promise<TelemetryMesh> {
  const undo: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const step of undo.splice(0).reverse()) await step().catch(() => {});
  };
  try {
    const backend = await startBackend({ name: 'checkout', ...(opts.failPattern ? { failPattern: opts.failPattern } : {}) });
    undo.push(() => backend.stop());
    const serverInbound = opts.sidecars === 2 ? await freePort() : backend.port;
    const dir = await mkdtemp(join(tmpdir(), 'weft-telemetry-mesh-'));
    undo.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'mesh.yaml'), meshYaml(backend.port, serverInbound));
    const weft = await startWeftServe({ configDir: dir });
    undo.push(() => weft.stop());

    const telemetry = (workload: string): ProxyTelemetry => ({
      workload,
      identity: identityOf(workload),
      ...(opts.accessLog ? { accessLog: true } : {}),
      ...(opts.otlpAddress && opts.traceSampling ? { otlpAddress: opts.otlpAddress, traceSampling: opts.traceSampling } : {}),
    });
    let server: EnvoyHandle | undefined;
    if (opts.sidecars === 2) {
      server = await startEnvoy({
        bootstrapYaml: renderBootstrap({
          nodeId: `checkout-${process.pid}`,
          namespace: 'shop',
          service: 'checkout',
          xdsAddress: weft.xdsAddress,
          outboundPort: await freePort(),
          inboundPort: serverInbound,
          adminPort: 0,
          telemetry: telemetry('checkout'),
        }).yaml,
      });
      undo.push(() => server?.stop() ?? Promise.resolve());
    }
    const outboundPort = await freePort();
    const client = await startEnvoy({
      bootstrapYaml: renderBootstrap({
        nodeId: `web-${process.pid}`,
        namespace: 'shop',
        xdsAddress: weft.xdsAddress,
        outboundPort,
        adminPort: 0,
        telemetry: telemetry('web'),
      }).yaml,
    });
    undo.push(() => client.stop());
    await waitForRoute(client, CHECKOUT_HOST, (v) => v.clusters.length > 0);
    const scrapeTargets = [client, ...(server ? [server] : [])].map((e, i) => ({
      job: i === 0 ? 'web' : 'checkout',
      address: `127.0.0.1:${e.adminPort}`,
      path: '/stats/prometheus',
    }));
    return { backend, weft, client, ...(server ? { server } : {}), outboundPort, scrapeTargets, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
