import { describe, expect, it } from 'vitest';
import { captureCommands, captureRestore, captureScript } from '../../src/capture/rules.ts';

const base = { excludeInboundPorts: [], excludeOutboundPorts: [], excludeOutboundCidrs: [], ipv6: false };

describe('capture rules', () => {
  it('redirects inbound to 15006 and outbound to 15001, bypassing uid 1337, loopback and the sidecar ports', () => {
    const lines = captureScript(base).split('\n');
    expect(lines).toContain('iptables -t nat -A WEFT_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006');
    expect(lines).toContain('iptables -t nat -A WEFT_OUT_REDIRECT -p tcp -j REDIRECT --to-ports 15001');
    expect(lines).toContain('iptables -t nat -A WEFT_OUTPUT -m owner --uid-owner 1337 -j RETURN');
    expect(lines).toContain('iptables -t nat -A WEFT_INBOUND -p tcp --dport 15021 -j RETURN');
    expect(lines).toContain('iptables -t nat -A WEFT_INBOUND -p tcp --dport 15090 -j RETURN');
    // Bypass rules must come before the catch-all redirect of their chain.
    const idx = (s: string) => lines.findIndex((l) => l.includes(s));
    expect(idx('--uid-owner 1337')).toBeLessThan(idx('-A WEFT_OUTPUT -j WEFT_OUT_REDIRECT'));
    expect(idx('--dport 15021')).toBeLessThan(idx('-A WEFT_INBOUND -p tcp -j WEFT_IN_REDIRECT'));
  });

  it('writes ip6tables rules and puts each CIDR in its own family', () => {
    const cmds = captureCommands({ ...base, ipv6: true, excludeOutboundCidrs: ['10.0.0.0/8', 'fd00::/8'] });
    expect(cmds.filter((c) => c.includes('10.0.0.0/8')).map((c) => c[0])).toEqual(['iptables']);
    expect(cmds.filter((c) => c.includes('fd00::/8')).map((c) => c[0])).toEqual(['ip6tables']);
  });

  it('deduplicates and sorts excluded ports', () => {
    const cmds = captureCommands({ ...base, excludeOutboundPorts: [6379, 5432, 6379] });
    expect(cmds.filter((c) => c.includes('--dport') && c.includes('WEFT_OUTPUT')).map((c) => c[c.indexOf('--dport') + 1])).toEqual(['5432', '6379']);
  });
});

describe('captureRestore (the weft-cni plugin input)', () => {
  it('is the same rules as the script, as one iptables-restore transaction per family', () => {
    const cfg = { ...base, ipv6: true, excludeOutboundPorts: [5432], excludeOutboundCidrs: ['10.0.0.0/8', 'fd00::/8'] };
    const restores = captureRestore(cfg);
    expect(restores.map((r) => r.family)).toEqual([4, 6]);
    for (const { family, input } of restores) {
      const bin = family === 4 ? 'iptables' : 'ip6tables';
      const fromScript = captureCommands(cfg)
        .filter((c) => c[0] === bin)
        .map((c) => c.slice(3));
      const lines = input.trimEnd().split('\n');
      expect(lines[0]).toBe('*nat');
      expect(lines.at(-1)).toBe('COMMIT');
      // Chain declarations first, then every -A of the script in the script's order.
      expect(lines.filter((l) => l.startsWith(':'))).toEqual(fromScript.filter((c) => c[0] === '-N').map((c) => `:${c[1]} - [0:0]`));
      expect(lines.filter((l) => l.startsWith('-A'))).toEqual(fromScript.filter((c) => c[0] === '-A').map((c) => c.join(' ')));
    }
  });
});
