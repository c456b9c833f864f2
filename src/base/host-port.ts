// `host:port` and `[v6]:port`, as flags and injection values spell addresses. One parser for
// the addresses proxies dial (port 1-65535) and the ones servers listen on (port 0 picks one).
import { isIP } from 'node:net';

export type HostPort = { ok: true; host: string; port: number } | { ok: false; reason: string };

/** Parses `host:port` / `[v6]:port`; the reason says what is wrong, for CLI messages. */
export function parseHostPort(value: string, opts: { allowPortZero?: boolean } = {}): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d+)$/.exec(value);
  if (!m) return { ok: false, reason: `expected HOST:PORT or [IPv6]:PORT, got "${value}"` };
  const host = m[1] ?? m[2] ?? '';
  if (m[1] !== undefined && isIP(host) !== 6) return { ok: false, reason: `"${host}" is not an IPv6 address` };
  const port = Number(m[3]);
  const min = opts.allowPortZero ? 0 : 1;
  if (!Number.isInteger(port) || port < min || port > 65535) return { ok: false, reason: `port ${m[3]} is not in ${min}-65535` };
  return { ok: true, host, port };
}
