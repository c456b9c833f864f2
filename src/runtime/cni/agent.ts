// `weft cni-node`: the weft-cni DaemonSet's one process on each node. It copies the plugin
// into the node's CNI bin dir, chains it into the node's CNI configuration, keeps both there
// (every 2 s: a primary CNI that rewrites its conflist loses weft-cni, which is put back),
// reports Ready on :<health-port>/ready once the plugin is chained, deletes meshed Pods that
// started before it was (repair.ts), and on SIGTERM (the DaemonSet deleted: helm uninstall)
// takes everything back out, the configuration byte for byte as it was (conflist.ts).
import { createServer } from 'node:http';
import type { Logger } from '../../base/log.ts';
import { errorMessage } from '../../base/errors.ts';
import type { KubeClient } from '../../k8s/client.ts';
import { chainConf, installPlugin, removePlugin, unchainConf, type NodePaths } from './node-files.ts';
import { repairOnce } from './repair.ts';

export interface AgentOptions extends NodePaths {
  readonly logFile?: string;
  readonly nodeName?: string;
  readonly healthPort: number;
  readonly kube?: KubeClient;
  readonly intervalMs: number;
}

export async function runAgent(o: AgentOptions, log: Logger, stop: Promise<void>): Promise<number> {
  let ready = false;
  const health = createServer((req, res) => {
    const ok = req.url === '/healthz' || (req.url === '/ready' && ready);
    res.writeHead(ok ? 200 : 503).end(ok ? 'ok\n' : 'weft-cni is not chained yet\n');
  });
  await new Promise<void>((resolve) => health.listen(o.healthPort, '0.0.0.0', resolve));

  const t0 = performance.now();
  await installPlugin(o);
  log.info({ binDir: o.binDir, ms: Math.round(performance.now() - t0) }, 'weft-cni plugin copied');

  let stopped = false;
  void stop.then(() => (stopped = true));
  let lastWait = '';
  while (!stopped) {
    try {
      const s = await chainConf(o.confDir, o.logFile ? { logFile: o.logFile } : {});
      if (s.state === 'waiting') {
        if (s.reason !== lastWait) log.info({ reason: s.reason }, 'waiting for the primary CNI configuration');
        lastWait = s.reason;
      } else {
        if (s.changed) log.info({ file: s.file }, 'weft-cni chained into the node CNI configuration');
        if (!ready) log.info({ ms: Math.round(performance.now() - t0) }, 'weft-cni ready');
        ready = true;
      }
      if (ready && o.kube && o.nodeName) await repairOnce(o.kube, o.nodeName, log);
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'weft-cni install pass failed; retrying');
    }
    await Promise.race([stop, new Promise((r) => setTimeout(r, o.intervalMs))]);
  }

  ready = false;
  const restored = await unchainConf(o.confDir);
  await removePlugin(o.binDir);
  log.info({ restored }, 'weft-cni removed from the node (configuration restored)');
  await new Promise<void>((resolve) => health.close(() => resolve()));
  return 0;
}
