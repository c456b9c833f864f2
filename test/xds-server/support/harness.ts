// One real xDS server on 127.0.0.1:0 over a World, plus clients and whole-response expectations.
import { create, toJson, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import type { Client } from '@grpc/grpc-js';
import { expect } from 'vitest';
import { processMetrics } from '../../../src/base/metrics.ts';
import type { Node } from '../../../xds/gen/envoy/config/core/v3/base_pb.js';
import { DeltaDiscoveryResponseSchema, DiscoveryResponseSchema } from '../../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { envoyRegistry } from '../../../xds/resources/registry.ts';
import type { Authenticate } from '../../../src/identity/auth-hook.ts';
import { startXdsServer, type RunningXdsServer } from '../../../xds/server/start.ts';
import type { XdsLimits } from '../../../xds/server/limits.ts';
import type { ConsistencyCheck } from '../../../xds/snapshot/cache.ts';
import { DeltaClient, envoyNode, newGrpcClient, SotwClient } from './client.ts';
import { nameOf, resourceVersion, versionOf } from './resources.ts';
import { World } from './world.ts';

type AnyResource = Parameters<typeof versionOf>[0];

export interface Harness {
  readonly world: World;
  readonly server: RunningXdsServer;
  readonly client: Client;
  sotw(node?: Node): SotwClient;
  delta(node?: Node): DeltaClient;
  close(): Promise<void>;
}

export async function startHarness(
  opts: {
    holdoffMs?: number;
    maxDelayMs?: number;
    authenticate?: Authenticate;
    checkConsistency?: ConsistencyCheck;
    limits?: Partial<XdsLimits>;
    /** xDS worker threads; default WEFT_TEST_XDS_WORKERS (0: none), so a whole suite can run through workers. */
    workers?: number;
  } = {},
): Promise<Harness> {
  const workers = opts.workers ?? Number(process.env.WEFT_TEST_XDS_WORKERS ?? 0);
  const world = new World(opts.checkConsistency !== undefined ? { checkConsistency: opts.checkConsistency } : {});
  const server = await startXdsServer({
    address: '127.0.0.1:0',
    cache: world.cache,
    // Short debounce keeps tests fast; tests of debouncing pass their own.
    debounce: { holdoffMs: opts.holdoffMs ?? 20, maxDelayMs: opts.maxDelayMs ?? 200 },
    ...(opts.authenticate !== undefined ? { authenticate: opts.authenticate } : {}),
    // Tests multiplex hundreds of proxies over one client connection; Envoy opens one or two.
    limits: { maxStreamsPerConnection: 10_000, ...opts.limits },
    ...(workers > 0 ? { workers } : {}),
  });
  const client = newGrpcClient(server.port);
  const open: { close(): void }[] = [];
  let n = 0;
  return {
    world,
    server,
    client,
    sotw: (node) => {
      const c = new SotwClient(client, node ?? envoyNode(`sidecar-${++n}`));
      open.push(c);
      return c;
    },
    delta: (node) => {
      const c = new DeltaClient(client, node ?? envoyNode(`sidecar-${++n}`));
      open.push(c);
      return c;
    },
    async close() {
      for (const c of open) c.close();
      client.close();
      await server.close();
    },
  };
}

function packed(m: AnyResource) {
  const schema = envoyRegistry.getMessage(m.$typeName) as DescMessage;
  return anyPack(schema, m as MessageShape<typeof schema>);
}

/** The whole DiscoveryResponse the server must send (any nonce), as JSON. */
export function sotwResponse(typeUrl: string, resources: AnyResource[], version = versionOf(...resources)): unknown {
  const msg = create(DiscoveryResponseSchema, { versionInfo: version, typeUrl, resources: resources.map(packed) });
  return { ...(toJson(DiscoveryResponseSchema, msg, { registry: envoyRegistry }) as object), nonce: expect.any(String) };
}

/** The whole DeltaDiscoveryResponse the server must send (any nonce), as JSON. */
export function deltaResponse(typeUrl: string, systemVersion: string, resources: AnyResource[], removed: string[] = []): unknown {
  const msg = create(DeltaDiscoveryResponseSchema, {
    systemVersionInfo: systemVersion,
    typeUrl,
    resources: resources.map((m) => ({ name: nameOf(m), version: resourceVersion(m), resource: packed(m) })),
    removedResources: removed,
  });
  return { ...(toJson(DeltaDiscoveryResponseSchema, msg, { registry: envoyRegistry }) as object), nonce: expect.any(String) };
}

/** Current value of a counter/gauge series (0 when absent). */
export async function metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await processMetrics()).getSingleMetric(name); // with xDS workers, theirs too
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  const hit = values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return hit?.value ?? 0;
}

/** Retries an assertion until it passes (server-side effects of a request land asynchronously). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
