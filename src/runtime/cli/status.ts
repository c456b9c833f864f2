// `weftctl status`: every replica's /debug/proxies, one table (src/runtime/proxy-status.ts).
import { stringify } from 'yaml';
import { loadKubeConfig } from '../../k8s/client.ts';
import type { ProxyDebug } from '../../../xds/server/debug.ts';
import { formatStatus, sortStatusRows, statusRows, type StatusRow } from '../proxy-status.ts';
import { askAll, CliFailure, openDebugApi, type DebugApiOptions } from './debug-client.ts';
import { processIo, type CliIo } from './flags.ts';
import type { StatusFlags } from './status-flags.ts';

/** The kubeconfig context's namespace (kubectl's default for -n), else `default`. */
export function contextNamespace(kubeconfig: string | undefined): string {
  try {
    const kc = loadKubeConfig(kubeconfig);
    return kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  } catch {
    return 'default';
  }
}

export function debugApiOptions(flags: StatusFlags | Omit<StatusFlags, 'all-namespaces'>): DebugApiOptions {
  return {
    kubeconfig: flags.kubeconfig,
    token: flags.token,
    controlPlaneNamespace: flags['control-plane-namespace'],
    release: flags.release,
    debugUrls: flags['debug-url'],
  };
}

export async function statusWith(flags: StatusFlags, io: CliIo = processIo, now: () => Date = () => new Date()): Promise<number> {
  const namespace = flags['all-namespaces'] ? undefined : (flags.namespace ?? contextNamespace(flags.kubeconfig));
  let rows: StatusRow[];
  let narrowed = false;
  try {
    const api = await openDebugApi(debugApiOptions(flags));
    try {
      const answers = await askAll(api, `/debug/proxies${namespace !== undefined ? `?namespace=${encodeURIComponent(namespace)}` : ''}`);
      narrowed = answers.some((a) => a.answer.narrowed === true);
      rows = answers.flatMap(({ replica, answer }) => {
        if (answer.status !== 200 || !Array.isArray(answer.body))
          throw new CliFailure(`replica ${replica} answered HTTP ${answer.status} to /debug/proxies: is it a Weft controller of this version?`);
        return statusRows(replica, answer.body as ProxyDebug[]);
      });
    } finally {
      await api.close();
    }
  } catch (err) {
    if (!(err instanceof CliFailure)) throw err;
    io.stderr(`weftctl status: ${err.message}\n`);
    return 1;
  }
  sortStatusRows(rows);
  if (narrowed) io.stderr('weftctl status: only the namespaces you may get proxies.mesh.weft.dev in are listed (you lack the right cluster-wide)\n');
  if (flags.output === 'json') io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
  else if (flags.output === 'yaml') io.stdout(stringify(rows));
  else {
    const text = formatStatus(rows, flags.output === 'wide', now());
    io.stdout(rows.length === 0 && namespace !== undefined ? `No proxies connected in namespace ${namespace}.\n` : text);
  }
  return 0;
}
