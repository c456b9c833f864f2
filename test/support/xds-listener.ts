// An HTTP/2 listener standing where the xDS server would be, recording the first gRPC
// request of each stream Envoy opens: the method path and the decoded Discovery request.
// It answers nothing: it proves what a real Envoy sends to the address its bootstrap names.
import { fromBinary, toJson, type DescMessage, type JsonObject } from '@bufbuild/protobuf';
import { createServer, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';
import { envoyRegistry } from '../../xds/resources/registry.ts';

export interface ObservedRequest {
  path: string;
  /** Proto JSON of the first (Delta)DiscoveryRequest on the stream. */
  request: JsonObject;
}

export interface XdsListener {
  readonly address: string;
  /** Resolves with the first request that arrives (rejects after timeoutMs). */
  firstRequest(timeoutMs?: number): Promise<ObservedRequest>;
  close(): Promise<void>;
}

function schemaFor(path: string): DescMessage {
  const name = path.endsWith('/DeltaAggregatedResources') ? 'envoy.service.discovery.v3.DeltaDiscoveryRequest' : 'envoy.service.discovery.v3.DiscoveryRequest';
  const desc = envoyRegistry.getMessage(name);
  if (!desc) throw new Error(`registry lacks ${name}`);
  return desc;
}

const open = new Set<XdsListener>();
afterAll(async () => {
  await Promise.all([...open].map((l) => l.close()));
});

export async function startXdsListener(): Promise<XdsListener> {
  const seen: ObservedRequest[] = [];
  const waiters: Array<(r: ObservedRequest) => void> = [];
  const server = createServer();
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    const path = String(headers[':path'] ?? '');
    let buf = Buffer.alloc(0);
    stream.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      // gRPC length-prefixed message: 1 byte compressed flag, 4 bytes big-endian length.
      if (buf.length < 5 || seen.some((s) => s.path === path)) return;
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) return;
      const schema = schemaFor(path);
      const msg = fromBinary(schema, buf.subarray(5, 5 + len));
      const obs = { path, request: toJson(schema, msg, { registry: envoyRegistry }) as JsonObject };
      seen.push(obs);
      for (const w of waiters.splice(0)) w(obs);
    });
    stream.on('error', () => {});
  });
  server.on('sessionError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const listener: XdsListener = {
    address: `127.0.0.1:${port}`,
    firstRequest(timeoutMs = 30_000) {
      const first = seen[0];
      if (first) return Promise.resolve(first);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no xDS request arrived')), timeoutMs);
        waiters.push((r) => {
          clearTimeout(t);
          resolve(r);
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        open.delete(listener);
        server.close(() => resolve());
        // Envoy keeps its session open and retries; close() alone would wait for it.
        for (const s of sessions) s.destroy();
      }),
  };
  open.add(listener);
  return listener;
}
