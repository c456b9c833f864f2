// `weft serve --config-dir DIR...`: the standalone control plane. Reads Services,
// EndpointSlices and Weft resources from YAML files and serves them over xDS.
import { isIP } from 'node:net';
import { FileSource } from '../../sources/file-source.ts';
import { MergedSource } from '../../sources/merged-source.ts';
import { startControlPlane } from '../control-plane.ts';
import { caDirRotationStore, caFromDir } from '../../identity/ca-dir.ts';
import { RootRotation } from '../root-rotation.ts';
import type { ControlPlane } from '../control-plane.ts';
import { createXdsSecurity, type XdsSecurity } from '../xds-security.ts';
import { log } from '../../base/log.ts';
import { MeshPorts } from '../../base/mesh-ports.ts';
import { hostOf } from '../../../xds/server/start.ts';
import { parseOrReport } from './flags.ts';
import { listenerTimeoutsFrom, xdsLimitsFrom } from './xds-limit-flags.ts';
import { scrapeSettingsFrom } from './mesh-view-flags.ts';
import { certificatesOf } from '../xds-security.ts';
import { serveCommand, type ServeFlags } from './serve-flags.ts';
import { waitForShutdown } from './shutdown.ts';
import { errorMessage } from '../../base/errors.ts';

/** `weft serve` with its arguments (what tests and embedders call); the binary parses in weft.ts first. */
export async function runServe(argv: string[]): Promise<number> {
  const flags = parseOrReport(serveCommand, argv);
  return typeof flags === 'number' ? flags : serveWith(flags);
}

/** Runs the standalone control plane until SIGINT/SIGTERM; the exit code. */
export async function serveWith(values: ServeFlags): Promise<number> {
  const configDirs = values['config-dir'];
  const caDir = values['ca-dir'];
  const trustDomain = values['trust-domain'];
  const ttlMs = values['workload-cert-ttl'];
  const xdsAddress = values['xds-address'] ?? `127.0.0.1:${caDir === undefined ? MeshPorts.xdsPlaintext : MeshPorts.xdsTls}`;
  let security: XdsSecurity | undefined;
  let rotation: RootRotation | undefined;
  let running: ControlPlane | undefined;
  try {
    if (caDir !== undefined) {
      const ca = await caFromDir(caDir, { trustDomain, create: true, rotation: false });
      if (!ca.ok) throw new Error(`--ca-dir: ${ca.error}`);
      security = await createXdsSecurity({
        ca: ca.ca,
        log,
        ...(ttlMs !== undefined ? { workloadCertTtlMs: ttlMs } : {}),
        serving: servingNames(hostOf(xdsAddress), values['xds-san']),
      });
      const soak = values['ca-rotation-soak'];
      rotation = new RootRotation({
        store: caDirRotationStore(caDir),
        security,
        streams: () => running?.xds.ads.debug() ?? [],
        trustDomain,
        log,
        ...(soak !== undefined ? { soakMs: soak } : {}),
      });
      // A restart mid-rotation serves the recorded phase's material from the first proxy on.
      await rotation.pass();
    }
    const sec = security;
    const cp = await startControlPlane({
      // Several directories: e.g. examples/mesh and its standalone/ EndpointSlices (merged-source.ts).
      source:
        configDirs.length === 1 ? new FileSource(configDirs[0] as string) : new MergedSource(configDirs.map((d) => ({ name: d, source: new FileSource(d) }))),
      xdsAddress,
      monitoringAddress: values['monitoring-address'],
      xdsLimits: xdsLimitsFrom(values),
      xdsWorkers: values['xds-workers'],
      ...(values['egress-default'] !== undefined ? { egressDefault: values['egress-default'] } : {}),
      listenerTimeouts: listenerTimeoutsFrom(values),
      meshView: { scrape: scrapeSettingsFrom(values), ...(sec ? { certificates: () => certificatesOf(sec.status()) } : {}) },
      log,
      ...(security
        ? { xdsCredentials: security.credentials, authenticate: security.authenticate, secrets: security, debug: { identity: security.status } }
        : {}),
    });
    running = cp;
    rotation?.start();
    // One machine-readable line so scripts and tests can find the ports that were bound.
    process.stdout.write(`${JSON.stringify({ event: 'ready', xdsPort: cp.xdsPort, monitoringPort: cp.monitoringPort, tls: security !== undefined })}\n`);
    log.info({ url: `${monitoringUrl(values['monitoring-address'], cp.monitoringPort)}/mesh/` }, 'mesh view');
    await waitForShutdown(log);
    await rotation?.stop();
    await cp.close();
    security?.close();
    return 0;
  } catch (err) {
    await rotation?.stop();
    security?.close();
    process.stderr.write(`weft serve: ${errorMessage(err)}\n`);
    return 1;
  }
}

/** Serving-certificate SANs: loopback names, the bind host when it names one, and --xds-san. */
function servingNames(bindHost: string, extra: readonly string[]): { dnsNames: string[]; ipAddresses: string[] } {
  const names = new Set(['localhost', ...extra, ...(bindHost === '0.0.0.0' || bindHost === '::' ? [] : [bindHost])]);
  const ips = new Set(['127.0.0.1', '::1']);
  const dns = new Set<string>();
  for (const n of names) (isIP(n) !== 0 ? ips : dns).add(n);
  return { dnsNames: [...dns].sort(), ipAddresses: [...ips].sort() };
}

/** http://host:port of the monitoring listener as a browser on this machine reaches it. */
function monitoringUrl(address: string, port: number | undefined): string {
  const host = hostOf(address);
  const shown = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : isIP(host) === 6 ? `[${host}]` : host;
  return `http://${shown}:${port ?? ''}`;
}
