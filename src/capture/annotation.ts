// How the webhook tells the weft-cni plugin (and the validation init container) that a Pod is
// meshed and how to capture it: one Pod annotation holding the CaptureConfig as JSON. The
// kubelet hands Pod annotations to the runtime with the sandbox, and containerd passes them
// to CNI plugins that ask for the `io.kubernetes.cri.pod-annotations` capability, so the
// plugin needs no API call. The annotation is user-writable: decoding accepts nothing but
// ports and CIDRs, so the worst a Pod can do is capture its own traffic differently.
//
// Copied onto every node with the CNI plugin: imports only rules.ts.
import { parseCidr, type CaptureConfig } from './rules.ts';

/** Present (only) on Pods the webhook injected in CNI mode. */
export const CAPTURE_ANNOTATION = 'weft.dev/capture';

export function encodeCapture(cfg: CaptureConfig): string {
  return JSON.stringify({
    excludeInboundPorts: cfg.excludeInboundPorts,
    excludeOutboundPorts: cfg.excludeOutboundPorts,
    excludeOutboundCidrs: cfg.excludeOutboundCidrs,
    ipv6: cfg.ipv6,
  });
}

export type Decoded = { ok: true; config: CaptureConfig } | { ok: false; error: string };

/** Strict: unknown fields, non-ports and non-CIDRs are errors (the plugin then fails closed). */
export function decodeCapture(text: string): Decoded {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `${CAPTURE_ANNOTATION} is not JSON: ${(err as Error).message}` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, error: `${CAPTURE_ANNOTATION} is not a JSON object` };
  const o = raw as Record<string, unknown>;
  const known = ['excludeInboundPorts', 'excludeOutboundPorts', 'excludeOutboundCidrs', 'ipv6'];
  const unknown = Object.keys(o).filter((k) => !known.includes(k));
  if (unknown.length) return { ok: false, error: `${CAPTURE_ANNOTATION}: unknown field(s) ${unknown.join(', ')}` };
  const ports = (k: string): number[] | string => {
    const v = o[k] ?? [];
    if (!Array.isArray(v) || !v.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535))
      return `${CAPTURE_ANNOTATION}: ${k} must be a list of ports (1-65535)`;
    return v as number[];
  };
  const inbound = ports('excludeInboundPorts');
  const outbound = ports('excludeOutboundPorts');
  if (typeof inbound === 'string') return { ok: false, error: inbound };
  if (typeof outbound === 'string') return { ok: false, error: outbound };
  const cidrs = o.excludeOutboundCidrs ?? [];
  if (!Array.isArray(cidrs) || !cidrs.every((c) => typeof c === 'string' && parseCidr(c) !== undefined)) {
    return { ok: false, error: `${CAPTURE_ANNOTATION}: excludeOutboundCidrs must be a list of CIDRs` };
  }
  const ipv6 = o.ipv6 ?? false;
  if (typeof ipv6 !== 'boolean') return { ok: false, error: `${CAPTURE_ANNOTATION}: ipv6 must be true or false` };
  return {
    ok: true,
    config: { excludeInboundPorts: inbound, excludeOutboundPorts: outbound, excludeOutboundCidrs: (cidrs as string[]).map((c) => parseCidr(c)!.text), ipv6 },
  };
}
