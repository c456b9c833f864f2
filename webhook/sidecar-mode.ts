// Which shape the proxy is injected in. A native sidecar (an init container with
// restartPolicy Always, KEP-753) needs the SidecarContainers feature: alpha in 1.28 (off by
// default), beta and on by default since 1.29, GA in 1.33. An API server that lacks it drops
// the unknown `restartPolicy` field, and the proxy becomes an ordinary init container that
// never exits: the Pod would hang in Init forever. So `auto` picks native only for a server
// that reports 1.29 or later, and the plain-container shape when the version is older or
// could not be read (that shape works everywhere, with its known limits). `native` and
// `container` override the version (e.g. a 1.29–1.32 cluster with the feature gate off).
import type { SidecarMode } from './values.ts';

export type SidecarShape = 'native' | 'container';

export interface ServerVersion {
  readonly major: number;
  readonly minor: number;
  /** As the server reports it (gitVersion), for logs. */
  readonly text: string;
}

/** First release where native sidecars are on by default (beta). */
export const NATIVE_SIDECAR_MIN_VERSION = { major: 1, minor: 29 } as const;

/**
 * Reads GET /version's body ({major, minor, gitVersion}). Managed clusters decorate the
 * numbers (minor "29+", gitVersion "v1.29.3-gke.1"); the leading digits are what count.
 */
export function parseServerVersion(body: unknown): ServerVersion | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const git = typeof b.gitVersion === 'string' ? b.gitVersion : '';
  const m = /^v?(\d+)\.(\d+)/.exec(git);
  if (m) return { major: Number(m[1]), minor: Number(m[2]), text: git };
  const major = typeof b.major === 'string' ? /^\d+/.exec(b.major)?.[0] : undefined;
  const minor = typeof b.minor === 'string' ? /^\d+/.exec(b.minor)?.[0] : undefined;
  if (major === undefined || minor === undefined) return undefined;
  return { major: Number(major), minor: Number(minor), text: `${major}.${minor}` };
}

export function supportsNativeSidecars(v: ServerVersion): boolean {
  const min = NATIVE_SIDECAR_MIN_VERSION;
  return v.major > min.major || (v.major === min.major && v.minor >= min.minor);
}

/** The shape to inject, and why (for the start-up log line). */
export function resolveSidecarShape(configured: SidecarMode, version: ServerVersion | undefined): { shape: SidecarShape; reason: string } {
  if (configured !== 'auto') return { shape: configured, reason: `sidecarMode is ${configured}` };
  if (version === undefined)
    return { shape: 'container', reason: 'the API server version could not be read; the plain-container shape works on every version' };
  const min = `${NATIVE_SIDECAR_MIN_VERSION.major}.${NATIVE_SIDECAR_MIN_VERSION.minor}`;
  return supportsNativeSidecars(version)
    ? { shape: 'native', reason: `API server ${version.text} has native sidecars (on by default since ${min})` }
    : { shape: 'container', reason: `API server ${version.text} predates native sidecars (${min})` };
}

/**
 * Reads the server version once, retrying briefly (the controller may start while the API
 * server is still coming up). undefined after `attempts` failures: the caller falls back.
 */
export async function learnServerVersion(
  get: () => Promise<unknown>,
  opts: { attempts?: number; delayMs?: number; onError?: (err: Error, attempt: number) => void } = {},
): Promise<ServerVersion | undefined> {
  const attempts = opts.attempts ?? 3;
  for (let i = 1; i <= attempts; i++) {
    try {
      const v = parseServerVersion(await get());
      if (v) return v;
      opts.onError?.(new Error('GET /version: no version in the answer'), i);
    } catch (err) {
      opts.onError?.(err as Error, i);
    }
    if (i < attempts) await new Promise((r) => setTimeout(r, opts.delayMs ?? 1_000));
  }
  return undefined;
}

/** The shape injectPod uses: `auto` left unresolved (no wiring ran) means native, the GA shape. */
export function shapeOf(mode: SidecarMode): SidecarShape {
  return mode === 'container' ? 'container' : 'native';
}
