// The simulated sidecars, in a process of their own so the server's RSS is its own. Opens
// proxies over a few HTTP/2 connections (grpc-js multiplexes streams; one Client per
// connection, each with its own subchannel pool so they do not share one), reports when
// every proxy has ACKed all four types, and times ACKs of a new version when armed.
import { Client, credentials } from '@grpc/grpc-js';
import { namespaceName, serviceName } from './mesh.ts';
import { cpuMs, nowMs, type ClientReply, type ClientRequest, type ConnectPlan } from './protocol.ts';
import { SimProxy, type SimProxyHooks } from './sim-proxy.ts';

const MiB = 1024 * 1024;
const proxies: SimProxy[] = [];
const connections: Client[] = [];
const problems: string[] = [];
let pendingSync = new Set<SimProxy>();
let onAllSynced: (() => void) | undefined;
let armedPending = new Set<SimProxy>();
let ackedAt: number[] = [];
let onAllAcked: (() => void) | undefined;

const send = (reply: ClientReply): void => {
  process.send?.(reply);
};

const hooks: SimProxyHooks = {
  onSynced(p) {
    pendingSync.delete(p);
    if (pendingSync.size === 0) onAllSynced?.();
  },
  onArmedAck(p, at) {
    if (!armedPending.delete(p)) return;
    ackedAt.push(at);
    if (armedPending.size === 0) onAllAcked?.();
  },
  onEnd(p, problem) {
    if (problems.length < 20) problems.push(`${p.spec.id}: stream ended${problem ? `: ${problem}` : ''}`);
    pendingSync.delete(p);
    armedPending.delete(p);
    if (pendingSync.size === 0) onAllSynced?.();
    if (armedPending.size === 0) onAllAcked?.();
  },
};

function connectionFor(index: number, plan: ConnectPlan): Client {
  const c = Math.floor(index / plan.streamsPerConnection);
  while (connections.length <= c) {
    connections.push(
      new Client(`127.0.0.1:${plan.port}`, credentials.createInsecure(), {
        'grpc.max_receive_message_length': 64 * MiB,
        'grpc.use_local_subchannel_pool': 1,
        'grpc.keepalive_time_ms': 300_000,
        // Envoy's HTTP/2 windows (stream and connection) default to 256 MiB. With 64 KiB, 500
        // streams' first responses crawl through one connection window, and under load some
        // wait past the server's write-stall bound (30 s) and are reset: a bench artifact.
        'grpc-node.flow_control_window': 256 * MiB,
      }),
    );
  }
  return connections[c]!;
}

async function connect(plan: ConnectPlan): Promise<void> {
  const opened: SimProxy[] = [];
  for (let i = plan.from; i < plan.to; i++) {
    // Proxy i sits in namespace i mod N and fronts one of that namespace's services.
    const n = i % plan.namespaces;
    const s = Math.floor(i / plan.namespaces) % plan.servicesPerNamespace;
    opened.push(new SimProxy({ id: `sidecar-${i}`, namespace: namespaceName(n), service: serviceName(s) }, hooks));
  }
  pendingSync = new Set(opened);
  const synced = new Promise<void>((resolve) => (onAllSynced = resolve));
  // Open in batches so request handling interleaves with connection setup, as in a rollout.
  for (let k = 0; k < opened.length; k++) {
    opened[k]!.start(connectionFor(plan.from + k, plan));
    if (k % 500 === 499) await new Promise((r) => setImmediate(r));
  }
  proxies.push(...opened);
  if (opened.length > 0) await synced;
  send({ cmd: 'synced', proxies: proxies.filter((p) => p.synced).length, syncedAt: nowMs(), problems: [...problems], cpuMs: cpuMs() });
}

process.on('message', (msg: ClientRequest) => {
  void (async () => {
    switch (msg.cmd) {
      case 'connect':
        await connect(msg.plan);
        break;
      case 'arm':
        ackedAt = [];
        armedPending = new Set(proxies.filter((p) => p.synced));
        for (const p of armedPending) p.arm(msg.typeUrl);
        send({ cmd: 'armed', proxies: armedPending.size, cpuMs: cpuMs() });
        break;
      case 'collect': {
        const done = new Promise<void>((resolve) => {
          onAllAcked = resolve;
          if (armedPending.size === 0) resolve();
        });
        await Promise.race([done, new Promise((r) => setTimeout(r, msg.timeoutMs))]);
        send({ cmd: 'collected', ackedAt: [...ackedAt], missing: armedPending.size, cpuMs: cpuMs() });
        break;
      }
      case 'stop':
        for (const p of proxies) p.close();
        for (const c of connections) c.close();
        send({ cmd: 'stopped' });
        process.exit(0);
    }
  })().catch((err: unknown) => {
    console.error('bench clients:', err);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
