// The iptables rules weft-init applies, as explicit argument lists. The init container runs
// them as a `sh -ec` script (one command per line), so a test harness can run the very same
// script inside a network namespace with real iptables:
//   ip netns exec <ns> sh -ec "$(<pod.spec.initContainers[weft-init].args[0]>)"
//
// nat PREROUTING → WEFT_INBOUND: TCP to any port except the excluded ones → REDIRECT :15006
// nat OUTPUT     → WEFT_OUTPUT:  the proxy's own traffic (uid 1337), loopback, excluded ports
//                                and CIDRs RETURN; other TCP → REDIRECT :15001
import { MeshPorts, PROXY_UID } from '../src/base/mesh-ports.ts';
import { parseCidr } from './values.ts';

export interface CaptureConfig {
  readonly excludeInboundPorts: readonly number[];
  readonly excludeOutboundPorts: readonly number[];
  readonly excludeOutboundCidrs: readonly string[];
  readonly ipv6: boolean;
}

/** Ports the sidecar serves to the kubelet and Prometheus directly: never captured inbound. */
export const ALWAYS_EXCLUDED_INBOUND = [MeshPorts.readiness, MeshPorts.stats] as const;

const Chain = { inbound: 'WEFT_INBOUND', inRedirect: 'WEFT_IN_REDIRECT', output: 'WEFT_OUTPUT', outRedirect: 'WEFT_OUT_REDIRECT' } as const;

/** Every command as [binary, ...args], in the order they must run. */
export function captureCommands(cfg: CaptureConfig): string[][] {
  const families: (4 | 6)[] = cfg.ipv6 ? [4, 6] : [4];
  const out: string[][] = [];
  for (const family of families) {
    const bin = family === 4 ? 'iptables' : 'ip6tables';
    const nat = (...args: string[]) => out.push([bin, '-t', 'nat', ...args]);
    for (const chain of Object.values(Chain)) nat('-N', chain);
    nat('-A', Chain.inRedirect, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(MeshPorts.inbound));
    nat('-A', Chain.outRedirect, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(MeshPorts.outbound));

    nat('-A', 'PREROUTING', '-p', 'tcp', '-j', Chain.inbound);
    for (const p of uniqueSorted([...ALWAYS_EXCLUDED_INBOUND, ...cfg.excludeInboundPorts])) {
      nat('-A', Chain.inbound, '-p', 'tcp', '--dport', String(p), '-j', 'RETURN');
    }
    nat('-A', Chain.inbound, '-p', 'tcp', '-j', Chain.inRedirect);

    nat('-A', 'OUTPUT', '-p', 'tcp', '-j', Chain.output);
    nat('-A', Chain.output, '-m', 'owner', '--uid-owner', String(PROXY_UID), '-j', 'RETURN');
    nat('-A', Chain.output, '-o', 'lo', '-j', 'RETURN');
    for (const p of uniqueSorted(cfg.excludeOutboundPorts)) nat('-A', Chain.output, '-p', 'tcp', '--dport', String(p), '-j', 'RETURN');
    for (const c of cfg.excludeOutboundCidrs) {
      const parsed = parseCidr(c);
      if (parsed?.family === family) nat('-A', Chain.output, '-d', parsed.text, '-j', 'RETURN');
    }
    nat('-A', Chain.output, '-j', Chain.outRedirect);
  }
  return out;
}

/** The init container's script: one shell-quoted command per line (no quoting is needed today; kept safe anyway). */
export function captureScript(cfg: CaptureConfig): string {
  return captureCommands(cfg)
    .map((argv) => argv.map(shellWord).join(' '))
    .join('\n');
}

function shellWord(w: string): string {
  return /^[A-Za-z0-9_./:=-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

function uniqueSorted(ports: readonly number[]): number[] {
  return [...new Set(ports)].sort((a, b) => a - b);
}
