// `weft serve --config-dir DIR`: the standalone control plane. Reads Services,
// EndpointSlices and Weft resources from YAML files and serves them over xDS.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { FileSource } from '../config/file-source.ts';
import { startControlPlane } from '../control-plane.ts';
import { log } from '../log.ts';
import { MeshPorts } from '../mesh-ports.ts';
import { waitForShutdown } from './shutdown.ts';

const usage = 'usage: weft serve --config-dir DIR [--xds-address 127.0.0.1:15010] [--monitoring-address 127.0.0.1:15014]\n';

export async function runServe(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'config-dir': { type: 'string' },
        'xds-address': { type: 'string', default: `127.0.0.1:${MeshPorts.xdsPlaintext}` },
        'monitoring-address': { type: 'string', default: `127.0.0.1:${MeshPorts.monitoring}` },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`weft serve: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  const dir = values['config-dir'];
  if (!dir) {
    process.stderr.write(`weft serve: --config-dir is required\n${usage}`);
    return 2;
  }
  const configDir = resolve(dir);
  if (!existsSync(configDir) || !statSync(configDir).isDirectory()) {
    process.stderr.write(`weft serve: --config-dir ${configDir}: not a directory\n`);
    return 2;
  }
  try {
    const cp = await startControlPlane({
      source: new FileSource(configDir),
      xdsAddress: values['xds-address'],
      monitoringAddress: values['monitoring-address'],
      log,
    });
    // One machine-readable line so scripts and tests can find the ports that were bound.
    process.stdout.write(`${JSON.stringify({ event: 'ready', xdsPort: cp.xdsPort, monitoringPort: cp.monitoringPort })}\n`);
    await waitForShutdown(log);
    await cp.close();
    return 0;
  } catch (err) {
    process.stderr.write(`weft serve: ${(err as Error).message}\n`);
    return 1;
  }
}
