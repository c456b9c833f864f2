// `weft cni-node`: runs the weft-cni node agent (src/runtime/cni/agent.ts) until SIGTERM.
import { log } from '../../base/log.ts';
import { KubeClient, loadKubeConfig } from '../../k8s/client.ts';
import { runAgent } from '../cni/agent.ts';
import type { CniNodeFlags } from './cni-node-flags.ts';
import { waitForShutdown } from './shutdown.ts';

export async function cniNodeWith(f: CniNodeFlags): Promise<number> {
  const l = log.child({ component: 'weft-cni' });
  const kube = f['node-name'] !== undefined ? new KubeClient(loadKubeConfig(f.kubeconfig), l) : undefined;
  return runAgent(
    {
      binDir: f['bin-dir'],
      confDir: f['conf-dir'],
      appDir: f['app-dir'],
      nodeBinary: f['node-binary'],
      ...(f['log-file'] ? { logFile: f['log-file'] } : {}),
      ...(f['node-name'] ? { nodeName: f['node-name'] } : {}),
      ...(kube ? { kube } : {}),
      healthPort: f['health-port'],
      intervalMs: 2000,
    },
    l,
    waitForShutdown(l),
  );
}
