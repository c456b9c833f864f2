// `weft controller`: the Kubernetes operator. Watches Weft CRs, Services, EndpointSlices,
// Pods and Namespaces, serves xDS, and (while leader) writes CR status.
import { parseArgs } from 'node:util';
import { parseDurationMs } from '../config/schemas/duration.ts';
import { startController, type Controller } from '../controller/run.ts';
import { parseLabelSelector } from '../k8s/label-selector.ts';
import { log } from '../log.ts';
import { MeshPorts } from '../mesh-ports.ts';
import { waitForShutdown } from './shutdown.ts';

const usage = `usage: weft controller [flags]
  --kubeconfig FILE              credentials (default: in-cluster, then $KUBECONFIG / ~/.kube/config)
  --namespace NS                 control-plane namespace, home of the leader Lease (default weft-system)
  --xds-address HOST:PORT        ADS server (default 127.0.0.1:${MeshPorts.xdsPlaintext})
  --monitoring-address HOST:PORT /healthz /readyz /metrics /debug (default 127.0.0.1:${MeshPorts.monitoring})
  --leader-elect=true|false      only the Lease holder writes status (default true)
  --leader-identity ID           replica identity (default $POD_NAME, else hostname_pid)
  --lease-name NAME              (default weft-controller)
  --lease-duration 15s  --renew-deadline 10s  --retry-period 2s
  --watch-stall-timeout 5m       restart a watch that sent nothing (no event, no bookmark) this long
  --informer-max-backoff 10s     cap of the informer restart backoff
  --status-resync 1s             how often Programmed is re-evaluated
  --discovery-selector SELECTOR  only namespaces whose labels match (e.g. weft.dev/mesh=prod) are in the mesh
`;

function duration(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0) throw new Error(`--${name}: "${text}" is not a duration such as 500ms, 15s or 5m`);
  return ms;
}

function bool(name: string, text: string): boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new Error(`--${name} must be true or false, got "${text}"`);
}

export async function runController(argv: string[]): Promise<number> {
  // `--leader-elect` alone means true (kube-style boolean flags with an optional value).
  const args = argv.map((a) => (a === '--leader-elect' ? '--leader-elect=true' : a));
  let opts;
  try {
    const { values } = parseArgs({
      args,
      options: {
        kubeconfig: { type: 'string' },
        namespace: { type: 'string', default: 'weft-system' },
        'xds-address': { type: 'string', default: `127.0.0.1:${MeshPorts.xdsPlaintext}` },
        'monitoring-address': { type: 'string', default: `127.0.0.1:${MeshPorts.monitoring}` },
        'leader-elect': { type: 'string', default: 'true' },
        'leader-identity': { type: 'string' },
        'lease-name': { type: 'string' },
        'lease-duration': { type: 'string', default: '15s' },
        'renew-deadline': { type: 'string', default: '10s' },
        'retry-period': { type: 'string', default: '2s' },
        'watch-stall-timeout': { type: 'string', default: '5m' },
        'informer-max-backoff': { type: 'string', default: '10s' },
        'status-resync': { type: 'string', default: '1s' },
        'discovery-selector': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      process.stdout.write(usage);
      return 0;
    }
    const maxBackoff = duration('informer-max-backoff', values['informer-max-backoff'])!;
    opts = {
      ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
      namespace: values.namespace,
      xdsAddress: values['xds-address'],
      monitoringAddress: values['monitoring-address'],
      ...(values['leader-identity'] ? { identity: values['leader-identity'] } : {}),
      leaderElection: {
        enabled: bool('leader-elect', values['leader-elect']),
        ...(values['lease-name'] ? { leaseName: values['lease-name'] } : {}),
        leaseDurationMs: duration('lease-duration', values['lease-duration'])!,
        renewDeadlineMs: duration('renew-deadline', values['renew-deadline'])!,
        retryPeriodMs: duration('retry-period', values['retry-period'])!,
      },
      informer: {
        stallTimeoutMs: duration('watch-stall-timeout', values['watch-stall-timeout'])!,
        backoff: { initialMs: Math.min(500, maxBackoff), maxMs: maxBackoff },
      },
      statusResyncMs: duration('status-resync', values['status-resync'])!,
      ...(values['discovery-selector'] ? { namespaceSelector: parseLabelSelector(values['discovery-selector']) } : {}),
      log,
    };
  } catch (err) {
    process.stderr.write(`weft controller: ${(err as Error).message}\n${usage}`);
    return 2;
  }

  const shutdown = new AbortController();
  const signalled = waitForShutdown(log).then(() => shutdown.abort());
  let controller: Controller;
  try {
    controller = await startController(opts, shutdown.signal);
  } catch (err) {
    if (shutdown.signal.aborted) return 0; // asked to stop while waiting for informers
    process.stderr.write(`weft controller: ${(err as Error).message}\n`);
    return 1;
  }
  // One machine-readable line so scripts and tests can find the ports that were bound.
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', xdsPort: controller.xdsPort, monitoringPort: controller.monitoringPort, identity: controller.context.identity })}\n`,
  );
  await signalled;
  await controller.close();
  return 0;
}
