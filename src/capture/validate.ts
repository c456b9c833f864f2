// The weft-validation init container (CNI mode): proves, before the proxy and the app start,
// that the weft-cni plugin captured this Pod's traffic. It closes the race every CNI-mode mesh
// has: a Pod whose sandbox was created before the plugin was on its node (a new node, the
// DaemonSet not yet ready) has no rules, and must not run its app unmeshed.
//
// How: listen where captured outbound traffic is redirected (:15001, Envoy is not running
// yet), then, as a uid other than the proxy's, connect to an address that is routed off the
// Pod and neither excluded from capture nor local. With the rules in place the kernel
// redirects that connection to the listener, which sees it arrive from the client's own
// port; without them it goes out (refused, unreachable, or answered by someone else) and the
// listener sees nothing. Exit 0 when captured, VALIDATION_EXIT_CODE otherwise: the kubelet
// retries the container and the Pod stays un-Ready with its app never started, until the CNI
// DaemonSet (src/runtime/cni/repair.ts) deletes it so its owner recreates it with capture.
//
// Runs in the weft image as `node /app/src/capture/validate.ts`, uid 65532, no capabilities.
import { readFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { MeshPorts } from '../base/mesh-ports.ts';
import { decodeCapture } from './annotation.ts';
import { parseCidr, type CaptureConfig } from './rules.ts';

/** The validation container's exit code when capture is not in effect (the DaemonSet's repair looks for it). */
export const VALIDATION_EXIT_CODE = 42;
/** The env variable the webhook sets to the Pod's capture configuration (the annotation's value). */
export const CAPTURE_ENV = 'WEFT_CAPTURE';

const ipToInt = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const intToIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

function inCidr(ip: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  if (c?.family !== 4) return false;
  const [net = '', bits = '0'] = c.text.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipToInt(ip) / size) === Math.floor(ipToInt(net) / size);
}

/** IPv4 addresses routed off the Pod (gateways, then the first hosts of on-link subnets), from /proc/net/route. */
export function routedCandidates(procNetRoute: string, local: readonly string[], cfg: CaptureConfig): string[] {
  const le = (hex: string) => intToIp(Number.parseInt(hex.match(/../g)!.reverse().join(''), 16));
  const out: string[] = [];
  for (const line of procNetRoute.split('\n').slice(1)) {
    const [iface, dest, gw, , , , , mask] = line.trim().split(/\s+/);
    if (!iface || iface === 'lo' || !dest || !gw || !mask) continue;
    const subnet = `${le(dest)}/${ipToInt(le(mask)).toString(2).replace(/0/g, '').length}`;
    const candidates = gw !== '00000000' ? [le(gw)] : [1, 2, 3].map((i) => intToIp(ipToInt(le(dest)) + i)).filter((ip) => inCidr(ip, subnet));
    for (const ip of candidates) {
      if (local.includes(ip) || out.includes(ip) || cfg.excludeOutboundCidrs.some((c) => inCidr(ip, c))) continue;
      out.push(ip);
    }
  }
  return out;
}

export function targetPort(cfg: CaptureConfig): number | undefined {
  return [80, 8080, 443, 9999, 12345].find((p) => !cfg.excludeOutboundPorts.includes(p));
}

/** Whether a connection to ip:port from this process arrives at the capture listener. */
export async function captured(ip: string, port: number, timeoutMs = 2000): Promise<boolean> {
  const arrived = new Set<number>();
  const server = createServer((s: Socket) => {
    if (s.remotePort !== undefined) arrived.add(s.remotePort);
    s.destroy();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(MeshPorts.outbound, '0.0.0.0', resolve));
  try {
    const local = await new Promise<number | undefined>((resolve) => {
      const c = connect({ host: ip, port, timeout: timeoutMs });
      const done = (p: number | undefined) => {
        c.destroy();
        resolve(p);
      };
      c.once('connect', () => done(c.localPort));
      c.once('timeout', () => done(undefined));
      c.once('error', () => done(undefined));
    });
    if (local === undefined) return false;
    for (let i = 0; i < 20 && !arrived.has(local); i++) await new Promise((r) => setTimeout(r, 10));
    return arrived.has(local);
  } finally {
    server.close();
  }
}

async function main(): Promise<number> {
  const decoded = decodeCapture(process.env[CAPTURE_ENV] ?? '{}');
  if (!decoded.ok) {
    process.stderr.write(`weft-validation: ${decoded.error}\n`);
    return VALIDATION_EXIT_CODE;
  }
  const local = Object.values(networkInterfaces())
    .flat()
    .map((a) => a?.address ?? '');
  const ips = routedCandidates(readFileSync('/proc/net/route', 'utf8'), local, decoded.config);
  const port = targetPort(decoded.config);
  if (ips.length === 0 || port === undefined) {
    // Nothing to probe with (no route off the Pod that is captured): say so and let it start.
    process.stdout.write('weft-validation: no captured destination to probe with (every route is excluded); skipped\n');
    return 0;
  }
  const ip = ips[0]!;
  const t0 = performance.now();
  if (await captured(ip, port)) {
    process.stdout.write(
      `weft-validation: traffic capture is in effect (${ip}:${port} was redirected to :${MeshPorts.outbound} in ${Math.round(performance.now() - t0)} ms)\n`,
    );
    return 0;
  }
  process.stderr.write(
    `weft-validation: traffic capture is NOT in effect in this Pod (${ip}:${port} was not redirected to :${MeshPorts.outbound}). ` +
      'The weft-cni plugin was not on this node when the Pod was created; the app stays stopped until the Pod is recreated (the weft-cni DaemonSet deletes it once ready).\n',
  );
  return VALIDATION_EXIT_CODE;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main();
