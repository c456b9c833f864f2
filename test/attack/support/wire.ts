// Hostile xDS clients on raw HTTP/2 (node:http2), so a test controls what grpc-js would not
// let it: streams that never read (their window fills and stays full), requests sent as fast
// as the socket takes them. Plus the server child's RSS and a well-behaved proxy's CDS latency.
import { create, toBinary } from '@bufbuild/protobuf';
import { readFileSync } from 'node:fs';
import { connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { DeltaDiscoveryRequestSchema, DiscoveryRequestSchema } from '../../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { aggregatedDiscoveryService as ads } from '../../../xds/server/service-definitions.ts';
import { envoyNode } from '../../xds-server/support/client.ts';

type SotwInit = Parameters<typeof create<typeof DiscoveryRequestSchema>>[1];
type DeltaInit = Parameters<typeof create<typeof DeltaDiscoveryRequestSchema>>[1];

function frame(bytes: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + bytes.length);
  out.writeUInt32BE(bytes.length, 1);
  out.set(bytes, 5);
  return out;
}

export const sotwFrame = (init: SotwInit): Buffer => frame(toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, init)));
export const deltaFrame = (init: DeltaInit): Buffer => frame(toBinary(DeltaDiscoveryRequestSchema, create(DeltaDiscoveryRequestSchema, init)));

export function h2Session(address: string): ClientHttp2Session {
  const s = connect(`http://${address}`);
  s.on('error', () => {});
  return s;
}

/** A stream that never reads what the server sends. `closed` resolves when the server ends or resets it. */
export function silentStream(session: ClientHttp2Session, protocol: 'sotw' | 'delta'): { stream: ClientHttp2Stream; closed: Promise<number> } {
  const path = protocol === 'sotw' ? ads.StreamAggregatedResources.path : ads.DeltaAggregatedResources.path;
  const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
  stream.pause(); // never read: the stream's flow-control window fills and is never reopened
  stream.on('error', () => {});
  const closed = new Promise<number>((resolve) => stream.once('close', () => resolve(performance.now())));
  return { stream, closed };
}

export { envoyNode };

/** VmRSS of a process, in MiB. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
