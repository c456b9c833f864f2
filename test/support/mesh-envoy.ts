// The whole standalone data path for an end-to-end test: two demo backends, a private copy
// of examples/mesh pointing at them, `weft serve` on it, and a real Envoy bootstrapped by
// renderBootstrap that acts as an explicit HTTP proxy for `http://checkout.shop:8080/`.
import { renderBootstrap } from '../../xds/bootstrap/bootstrap.ts';
import { startBackend, type Backend } from './backends.ts';
import { startEnvoy, type EnvoyHandle } from './envoy.ts';
import { waitForRoute } from './envoy-routes.ts';
import { freePort } from './free-port.ts';
import { copyExampleMesh, DEMO_PORTS, type MeshFixture } from './mesh-fixture.ts';
import { startWeftServe, type WeftServe } from './weft-serve.ts';

export const CHECKOUT_HOST = 'checkout.shop:8080';
export const CHECKOUT_URL = `http://${CHECKOUT_HOST}/`;

export interface MeshEnvoy {
  v1: Backend;
  v2: Backend;
  mesh: MeshFixture;
  weft: WeftServe;
  envoy: EnvoyHandle;
  /** The port Envoy's explicit outbound HTTP listener actually bound. */
  outboundPort: number;
  stop(): Promise<void>;
}

type Json = Record<string, unknown>;

/** Ports of Envoy's active dynamic listeners, from the config dump. */
export async function listenerPorts(envoy: EnvoyHandle): Promise<number[]> {
  const dump = (await envoy.configDump()) as { configs?: Json[] };
  const ports: number[] = [];
  for (const section of dump.configs ?? []) {
    for (const l of (section.dynamic_listeners as Json[] | undefined) ?? []) {
      const sa = ((l.active_state as Json | undefined)?.listener as { address?: { socket_address?: { port_value?: number } } } | undefined)?.address
        ?.socket_address;
      if (sa?.port_value) ports.push(sa.port_value);
    }
  }
  return ports;
}

export interface MeshEnvoyOptions {
  delta?: boolean;
  failing?: boolean;
  /** Extra `weft serve` flags. */
  weftArgs?: string[];
  /** Announce Envoy's admin port as WEFT_STATS_PORT, so weft serve's mesh view scrapes it. */
  statsOnAdmin?: boolean;
}

export async function startMeshWithEnvoy(opts: MeshEnvoyOptions = {}): Promise<MeshEnvoy> {
  // Undo in reverse order, whether setup fails half way or the test is done.
  const undo: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of undo.splice(0).reverse()) await step().catch(() => {});
  };
  try {
    const v1 = await startBackend({ name: 'v1', failPattern: opts.failing ?? false });
    undo.push(() => v1.stop());
    const v2 = await startBackend({ name: 'v2', failPattern: opts.failing ?? false });
    undo.push(() => v2.stop());
    const mesh = await copyExampleMesh({ [DEMO_PORTS.v1]: v1.port, [DEMO_PORTS.v2]: v2.port });
    undo.push(() => mesh.cleanup());
    const weft = await startWeftServe({ configDir: mesh.dir, ...(opts.weftArgs ? { extraArgs: opts.weftArgs } : {}) });
    undo.push(() => weft.stop());

    // A private outbound port (WEFT_OUTBOUND_PORT): on the default one, parallel Envoys would
    // share it through SO_REUSEPORT and the kernel would spread connections between them.
    const outboundPort = await freePort();
    const adminPort = opts.statsOnAdmin ? await freePort() : 0;
    const envoy = await startEnvoy({
      keepAdminPort: opts.statsOnAdmin ?? false,
      bootstrapYaml: renderBootstrap({
        nodeId: `e2e-client-${process.pid}`,
        namespace: 'shop',
        service: 'e2e-client',
        xdsAddress: weft.xdsAddress,
        outboundPort,
        adminPort,
        ...(opts.statsOnAdmin ? { statsPort: adminPort } : {}),
        delta: opts.delta ?? false,
      }).yaml,
    });
    undo.push(() => envoy.stop());
    // The route for checkout must be there before any traffic is meaningful.
    await waitForRoute(envoy, CHECKOUT_HOST, (v) => v.clusters.length > 0);

    const ports = await listenerPorts(envoy);
    if (!ports.includes(outboundPort)) throw new Error(`no listener on WEFT_OUTBOUND_PORT ${outboundPort}; listeners on ${ports.join(', ')}`);
    return { v1, v2, mesh, weft, envoy, outboundPort, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
