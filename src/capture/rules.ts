// Weft's traffic-capture rules: the one source of truth for both ways of installing them.
//  - init-container mode: weft-init runs captureScript() as `sh -ec` (one iptables command a
//    line), so a test harness can run the very same script inside a network namespace:
//      ip netns exec <ns> sh -ec "$(<pod.spec.initContainers[weft-init].args[0]>)"
//  - CNI mode: the weft-cni plugin (src/capture/cni-plugin.ts) feeds captureRestore() to
//    iptables-restore inside the Pod's network namespace when the sandbox is created. Both
//    are derived from captureCommands(), so the two modes install identical rules.
//
// nat PREROUTING → WEFT_INBOUND: TCP to any port except the excluded ones → REDIRECT :15006
// nat OUTPUT     → WEFT_OUTPUT:  the proxy's own traffic (uid 1337), loopback, excluded ports
//                                and CIDRs RETURN; other TCP → REDIRECT :15001
//
// This file is copied onto every node with the CNI plugin: it imports only mesh-ports.ts.
import { MeshPorts, PROXY_UID } from '../base/mesh-ports.ts';

export interface CaptureConfig {
  readonly excludeInboundPorts: readonly number[];
  readonly excludeOutboundPorts: readonly number[];
  readonly excludeOutboundCidrs: readonly string[];
  readonly ipv6: boolean;
}

/** Ports the sidecar serves to the kubelet and Prometheus directly: never captured inbound. */
export const ALWAYS_EXCLUDED_INBOUND = [MeshPorts.readiness, MeshPorts.stats] as const;

export const CaptureChains = { inbound: 'WEFT_INBOUND', inRedirect: 'WEFT_IN_REDIRECT', output: 'WEFT_OUTPUT', outRedirect: 'WEFT_OUT_REDIRECT' } as const;

/** Every command as [binary, ...args], in the order they must run. */
export function captureCommands(cfg: CaptureConfig): string[][] {
  const families: (4 | 6)[] = cfg.ipv6 ? [4, 6] : [4];
  const out: string[][] = [];
  const Chain = CaptureChains;
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

/**
 * The same commands as iptables-restore input, one per family (`iptables-restore --noflush`
 * applies a table in one transaction: the Pod gets all the rules or none). `-N X` becomes the
 * chain declaration `:X - [0:0]`; `-A ...` lines are the commands' own arguments.
 */
export function captureRestore(cfg: CaptureConfig): { readonly family: 4 | 6; readonly input: string }[] {
  const byBin = new Map<string, string[]>();
  for (const [bin = '', , table, op = '', ...args] of captureCommands(cfg)) {
    if (table !== 'nat') throw new Error(`captureRestore: unexpected table ${table}`);
    const lines = byBin.get(bin) ?? [];
    byBin.set(bin, lines);
    lines.push(op === '-N' ? `:${args[0]} - [0:0]` : [op, ...args].map(shellWord).join(' '));
  }
  const decls = (lines: string[]) => [...lines.filter((l) => l.startsWith(':')), ...lines.filter((l) => !l.startsWith(':'))];
  return [...byBin].map(([bin, lines]) => ({ family: bin === 'iptables' ? 4 : 6, input: ['*nat', ...decls(lines), 'COMMIT', ''].join('\n') }));
}

/** `{ family, text }` for a valid CIDR, else undefined. */
export function parseCidr(s: string): { family: 4 | 6; text: string } | undefined {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(s.trim());
  if (!m) return undefined;
  const [, addr = '', bits = ''] = m;
  const prefix = Number(bits);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(addr)) {
    const ok = addr.split('.').every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255);
    return ok && prefix <= 32 ? { family: 4, text: `${addr}/${prefix}` } : undefined;
  }
  if (addr.includes(':') && prefix <= 128 && /^[0-9a-fA-F:]+$/.test(addr) && (addr.match(/::/g) ?? []).length <= 1) {
    return { family: 6, text: `${addr.toLowerCase()}/${prefix}` };
  }
  return undefined;
}

function shellWord(w: string): string {
  return /^[A-Za-z0-9_./:=-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

function uniqueSorted(ports: readonly number[]): number[] {
  return [...new Set(ports)].sort((a, b) => a - b);
}
