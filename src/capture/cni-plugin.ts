// The weft-cni chained CNI plugin's protocol handling (CNI spec 1.1, "Plugin Protocol"), as
// a function from one invocation (CNI_COMMAND, the other CNI_* variables, the network
// configuration on stdin) to what the plugin prints and its exit code. The host effects
// (iptables-restore inside the sandbox's netns) come in through CniHost, so unit tests drive
// every command without a node; cni-main.ts is the executable around it.
//
//   ADD     a Pod the webhook marked (the weft.dev/capture annotation, handed over by the
//           runtime in runtimeConfig["io.kubernetes.cri.pod-annotations"]) gets the capture
//           rules in its netns; any failure is a CNI error, so the runtime does not start the
//           sandbox (fail closed: a meshed Pod never runs unmeshed). Every other Pod passes
//           through untouched. Either way the result is prevResult, unchanged.
//   CHECK   a marked Pod's netns still has the rules; others pass.
//   DEL     nothing to undo: the rules live and die with the netns. Always succeeds.
//   VERSION the versions below. STATUS, GC: nothing to report or collect.
//
// Copied onto every node: imports only this folder (and mesh-ports.ts through rules.ts).
import { CAPTURE_ANNOTATION, decodeCapture } from './annotation.ts';
import { captureRestore, type CaptureConfig } from './rules.ts';

export const PLUGIN_TYPE = 'weft-cni';
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
/** The runtime capability that carries the Pod's annotations (containerd, CRI-O). */
export const POD_ANNOTATIONS_CAPABILITY = 'io.kubernetes.cri.pod-annotations';

/** Well-known CNI error codes (spec "Error"), plus Weft's own from 100. */
export const CniErrors = {
  incompatibleVersion: 1,
  invalidEnv: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidConfig: 7,
  badCaptureAnnotation: 100,
  captureFailed: 101,
  captureMissing: 102,
} as const;

export interface CniHost {
  /** Applies each family's iptables-restore input inside `netns`, all or nothing per family. */
  apply(netns: string, restores: readonly { family: 4 | 6; input: string }[]): Promise<void>;
  /** Undefined when `netns` has the capture chains, else what is missing. */
  check(netns: string, cfg: CaptureConfig): Promise<string | undefined>;
  /** Milliseconds, monotonic. */
  now(): number;
}

export interface CniInvocation {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: string;
}

export interface CniLogRecord {
  readonly command: string;
  readonly pod?: string;
  readonly containerId?: string;
  readonly captured: boolean;
  readonly applyMs?: number;
  readonly error?: string;
}

export interface CniOutcome {
  readonly stdout: string;
  readonly exitCode: number;
  /** What the executable logs about this invocation (undefined: nothing worth a line). */
  readonly log?: CniLogRecord;
}

interface NetConf {
  cniVersion?: unknown;
  prevResult?: unknown;
  runtimeConfig?: Record<string, unknown>;
  [k: string]: unknown;
}

export async function handleCni(inv: CniInvocation, host: CniHost): Promise<CniOutcome> {
  const command = inv.env.CNI_COMMAND ?? '';
  const args = parseCniArgs(inv.env.CNI_ARGS);
  const pod = args.K8S_POD_NAMESPACE && args.K8S_POD_NAME ? `${args.K8S_POD_NAMESPACE}/${args.K8S_POD_NAME}` : undefined;
  const base = { command, ...(pod ? { pod } : {}), ...(inv.env.CNI_CONTAINERID ? { containerId: inv.env.CNI_CONTAINERID } : {}) };

  if (command === 'DEL' || command === 'GC' || command === 'STATUS') return { stdout: '', exitCode: 0 };

  let conf: NetConf;
  try {
    const parsed: unknown = JSON.parse(inv.stdin || '{}');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the network configuration is not a JSON object');
    conf = parsed as NetConf;
  } catch (err) {
    return fail('1.1.0', CniErrors.decodeFailure, 'cannot decode the network configuration on stdin', (err as Error).message, base);
  }
  const version = typeof conf.cniVersion === 'string' ? conf.cniVersion : undefined;
  if (command === 'VERSION') {
    return { stdout: JSON.stringify({ cniVersion: version ?? '1.1.0', supportedVersions: SUPPORTED_VERSIONS }), exitCode: 0 };
  }
  if (command !== 'ADD' && command !== 'CHECK') return fail(version ?? '1.1.0', CniErrors.invalidEnv, `unknown CNI_COMMAND "${command}"`, undefined, base);
  if (version === undefined) return fail('1.1.0', CniErrors.invalidConfig, 'the network configuration has no cniVersion', undefined, base);
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    return fail(
      version,
      CniErrors.incompatibleVersion,
      `cniVersion ${version} is not supported (supported: ${SUPPORTED_VERSIONS.join(', ')})`,
      undefined,
      base,
    );
  }
  if (command === 'CHECK' && (version === '0.3.0' || version === '0.3.1')) {
    return fail(version, CniErrors.incompatibleVersion, `CHECK needs cniVersion 0.4.0 or later, the configuration says ${version}`, undefined, base);
  }
  if (typeof conf.prevResult !== 'object' || conf.prevResult === null) {
    return fail(
      version,
      CniErrors.invalidConfig,
      `${PLUGIN_TYPE} is a chained plugin: list it after the interface plugin in a conflist (no prevResult)`,
      undefined,
      base,
    );
  }

  const annotations = conf.runtimeConfig?.[POD_ANNOTATIONS_CAPABILITY];
  const marked = typeof annotations === 'object' && annotations !== null ? (annotations as Record<string, unknown>)[CAPTURE_ANNOTATION] : undefined;
  const passthrough = command === 'ADD' ? JSON.stringify({ ...(conf.prevResult as object), cniVersion: version }) : '';
  if (marked === undefined) return { stdout: passthrough, exitCode: 0, log: { ...base, captured: false } };

  const decoded = typeof marked === 'string' ? decodeCapture(marked) : ({ ok: false, error: `${CAPTURE_ANNOTATION} is not a string` } as const);
  if (!decoded.ok) return fail(version, CniErrors.badCaptureAnnotation, `cannot capture the Pod's traffic: ${decoded.error}`, undefined, base);
  const netns = inv.env.CNI_NETNS;
  if (!netns) return fail(version, CniErrors.invalidEnv, `CNI_NETNS is not set: cannot capture the traffic of ${pod ?? 'the Pod'}`, undefined, base);

  if (command === 'CHECK') {
    const problem = await host.check(netns, decoded.config).catch((err: unknown) => `the check failed: ${(err as Error).message}`);
    if (problem) return fail(version, CniErrors.captureMissing, `traffic capture is not in effect in ${netns}: ${problem}`, undefined, base);
    return { stdout: '', exitCode: 0 };
  }
  const t0 = host.now();
  try {
    await host.apply(netns, captureRestore(decoded.config));
  } catch (err) {
    return fail(version, CniErrors.captureFailed, `cannot apply the traffic capture rules of ${pod ?? 'the Pod'}`, (err as Error).message, base);
  }
  return { stdout: passthrough, exitCode: 0, log: { ...base, captured: true, applyMs: round(host.now() - t0) } };
}

/** CNI_ARGS: `K=V;K=V` (the runtime's K8S_POD_NAMESPACE, K8S_POD_NAME, ...). */
export function parseCniArgs(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (raw ?? '').split(';')) {
    const i = pair.indexOf('=');
    if (i > 0) out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

function fail(cniVersion: string, code: number, msg: string, details: string | undefined, base: Omit<CniLogRecord, 'captured'>): CniOutcome {
  const error = { cniVersion, code, msg, ...(details ? { details } : {}) };
  return { stdout: JSON.stringify(error), exitCode: 1, log: { ...base, captured: false, error: details ? `${msg}: ${details}` : msg } };
}

const round = (ms: number) => Math.round(ms * 100) / 100;
