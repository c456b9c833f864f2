// Helpers for e2e/pods/cni.test.ts: the node's CNI directories as bytes, restricted Pods
// running the shop program, and the weft-cni plugin's latency log.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeCluster } from '../../node/support.ts';
import { checkoutPod } from './shop.ts';

export interface CniDirs {
  readonly binDir: string;
  readonly confDir: string;
}

export async function cniDirs(): Promise<CniDirs> {
  const c = await nodeCluster();
  const binDir = c.env.WEFT_CNI_NODE_BIN_DIR;
  const confDir = c.env.WEFT_CNI_CONF_DIR;
  if (!binDir || !confDir) throw new Error('the node cluster env names no WEFT_CNI_NODE_BIN_DIR / WEFT_CNI_CONF_DIR (e2e/cluster/up.sh too old?)');
  return { binDir, confDir };
}

/** Every entry of `dir`: name → mode and exact content (directories: their listing). */
export async function dirBytes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) {
    const p = join(dir, name);
    const s = await stat(p);
    out[name] = `${(s.mode & 0o7777).toString(8)} ${s.isDirectory() ? `dir[${(await readdir(p)).join(',')}]` : (await readFile(p)).toString('base64')}`;
  }
  return out;
}

const RESTRICTED_APP = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/**
 * checkoutPod with the app container made PodSecurity `restricted` on its own (container-level
 * seccomp, not the Pod's: the injected containers must carry theirs).
 */
export function restrictedPod(name: string, labels?: Record<string, string>): { metadata: object; spec: { containers: object[] } } & Record<string, unknown> {
  const p = checkoutPod(name, labels ? { labels } : {}) as { metadata: object; spec: { containers: Record<string, unknown>[] } };
  for (const c of p.spec.containers) c.securityContext = RESTRICTED_APP;
  return p as never;
}

export function restrictedDeployment(name: string): object {
  const pod = restrictedPod(name, { app: name });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: pod.metadata, spec: pod.spec } },
  };
}

export function httpService(name: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP', appProtocol: 'http' }] },
  };
}

export interface PluginLogLine {
  time: string;
  command: string;
  pod?: string;
  captured: boolean;
  applyMs?: number;
  totalMs: number;
  error?: string;
}

export async function pluginLog(file: string): Promise<PluginLogLine[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as PluginLogLine);
}

/** A plain HTTP GET from the host (not meshed): the status, or the error's code. */
export async function hostGet(url: string): Promise<string> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    await r.arrayBuffer();
    return `HTTP ${r.status}`;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return cause?.code ?? (err as Error).name;
  }
}
