// Messages between the benchmark (bench/xds.ts) and its two child processes: the control
// plane (server.ts) and the simulated sidecars (clients.ts). Times are absolute
// milliseconds (performance.timeOrigin + performance.now()), comparable across processes.
import type { MeshShape, Mutation } from './mesh.ts';
import type { DeployedIdentity } from './deployed.ts';

export const nowMs = (): number => performance.timeOrigin + performance.now();

/** process.cpuUsage() user+system, in ms. */
export const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export interface MemoryFigures {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
}

/** Counter/histogram values the server reports (sums over labels). */
export interface ServerCounters {
  readonly acks: number;
  readonly nacks: number;
  readonly pushes: number;
  readonly encodes: number;
  readonly generations: number;
  readonly flushSeconds: number;
  readonly flushes: number;
  readonly connected: number;
}

export type ServerRequest =
  /** debounceStages 2 adds the push debounce Weft had before (100 ms holdoff, 1 s max) after the source's. */
  | {
      readonly cmd: 'start';
      readonly shape: MeshShape;
      readonly debounceStages: 1 | 2;
      readonly fullDecode?: boolean;
      readonly xdsWorkers?: number;
      readonly deployed?: DeployedIdentity;
    }
  /** gc: run a full collection first (memory figures); without it the call costs next to no CPU. */
  | { readonly cmd: 'stats'; readonly gc: boolean }
  | { readonly cmd: 'mutate'; readonly mutation: Mutation }
  | { readonly cmd: 'stop' };

export type ServerReply =
  | { readonly cmd: 'started'; readonly port: number; readonly services: number }
  | { readonly cmd: 'stats'; readonly memory: MemoryFigures; readonly counters: ServerCounters; readonly cpuMs: number }
  | { readonly cmd: 'mutated'; readonly at: number }
  | { readonly cmd: 'stopped' };

export interface ConnectPlan {
  readonly port: number;
  /** Index range [from, to) of proxies to open now. */
  readonly from: number;
  readonly to: number;
  readonly namespaces: number;
  readonly servicesPerNamespace: number;
  readonly streamsPerConnection: number;
}

export type ClientRequest =
  | { readonly cmd: 'connect'; readonly plan: ConnectPlan }
  | { readonly cmd: 'arm'; readonly typeUrl: string }
  | { readonly cmd: 'collect'; readonly timeoutMs: number }
  | { readonly cmd: 'stop' };

export type ClientReply =
  | { readonly cmd: 'synced'; readonly proxies: number; readonly syncedAt: number; readonly problems: readonly string[]; readonly cpuMs: number }
  | { readonly cmd: 'armed'; readonly proxies: number; readonly cpuMs: number }
  /** ACK send times of the new version, one per proxy that got it; `missing` never did. */
  | { readonly cmd: 'collected'; readonly ackedAt: readonly number[]; readonly missing: number; readonly cpuMs: number }
  | { readonly cmd: 'stopped' };
