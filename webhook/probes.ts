// HTTP probes rewritten through the sidecar: with STRICT mTLS the kubelet's plaintext probe
// would be refused by the inbound listener, so the kubelet calls the sidecar's readiness port
// at /app-health/<container>/<livez|readyz|startupz> and the sidecar forwards to the app's
// original path on 127.0.0.1 (routes in xds/bootstrap/sidecar.ts). The originals travel in the
// sidecar's WEFT_APP_PROBES env (JSON) as the record of what was rewritten.
// These routes are static and need nothing from the control plane: liveness reflects the app
// alone. With native sidecars the app starts only once the proxy has config, and a sidecar
// that restarts while the control plane is away serves them after its bounded initial fetch
// (xds/bootstrap/sidecar.ts). Readiness of the Pod includes the proxy through weft-proxy's
// own readiness probe, so the app's readiness probe is forwarded as is.
// HTTPS probes are left alone (the app terminates TLS itself; the sidecar would need to
// originate TLS to it), as are tcpSocket/exec/grpc probes.
import { MeshPorts } from '../src/base/mesh-ports.ts';
import type { AppProbeRoute } from '../xds/bootstrap/sidecar.ts';
import type { Container, Probe } from './pod.ts';
import { compareStrings } from '../src/base/order.ts';

const KINDS = [
  ['livenessProbe', 'livez'],
  ['readinessProbe', 'readyz'],
  ['startupProbe', 'startupz'],
] as const;

export interface OriginalProbe {
  readonly path: string;
  readonly port: number;
  readonly scheme: 'HTTP';
  readonly host?: string;
  readonly httpHeaders?: readonly { name: string; value: string }[];
  readonly timeoutSeconds?: number;
}

/** Rewrites `containers` in place (they are already a deep copy); returns the forwarded probes by new path. */
export function rewriteProbes(containers: Container[], warnings: string[]): Map<string, OriginalProbe> {
  const originals = new Map<string, OriginalProbe>();
  for (const c of containers) {
    for (const [field, suffix] of KINDS) {
      const probe: Probe | undefined = c[field];
      const get = probe?.httpGet;
      if (!probe || !get) continue;
      if (get.scheme !== undefined && get.scheme.toUpperCase() !== 'HTTP') continue;
      const port = resolvePort(c, get.port);
      if (port === undefined) {
        warnings.push(`container ${c.name}: ${field} port "${String(get.port)}" matches no containerPort; probe left unchanged`);
        continue;
      }
      const path = `/app-health/${c.name}/${suffix}`;
      originals.set(path, {
        path: get.path ? (get.path.startsWith('/') ? get.path : `/${get.path}`) : '/',
        port,
        scheme: 'HTTP',
        ...(get.host ? { host: get.host } : {}),
        ...(get.httpHeaders?.length ? { httpHeaders: get.httpHeaders.map((h) => ({ name: h.name, value: h.value })) } : {}),
        ...(probe.timeoutSeconds ? { timeoutSeconds: probe.timeoutSeconds } : {}),
      });
      probe.httpGet = { path, port: MeshPorts.readiness, scheme: 'HTTP' };
    }
  }
  return originals;
}

function resolvePort(c: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port >= 1 && port <= 65535 ? port : undefined;
  if (/^\d+$/.test(port)) return resolvePort(c, Number(port));
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

/** The env value: originals keyed by the new path, keys sorted for a stable patch. */
export function appProbesEnv(originals: Map<string, OriginalProbe>): string {
  return JSON.stringify(Object.fromEntries([...originals.entries()].sort(([a], [b]) => compareStrings(a, b))));
}

export function probeRoutes(originals: Map<string, OriginalProbe>): AppProbeRoute[] {
  return [...originals.entries()].map(([path, o]) => ({
    path,
    port: o.port,
    originalPath: o.path,
    ...(o.host ? { host: o.host } : {}),
    ...(o.httpHeaders ? { headers: o.httpHeaders } : {}),
    ...(o.timeoutSeconds ? { timeoutSeconds: o.timeoutSeconds } : {}),
  }));
}
