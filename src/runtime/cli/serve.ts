// `weft serve --config-dir DIR...`: the standalone control plane. Reads Services,
// EndpointSlices and Weft resources from YAML files and serves them over xDS.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { DEFAULT_TRUST_DOMAIN, isValidTrustDomain } from '../../ca/spiffe.ts';
import { FileSource } from '../../sources/file-source.ts';
import { MergedSource } from '../../sources/merged-source.ts';
import { parseDurationMs } from '../../api/duration.ts';
import { startControlPlane } from '../control-plane.ts';
import { caFromDir } from '../../identity/ca-dir.ts';
import { createXdsSecurity, type XdsSecurity } from '../xds-security.ts';
import { log } from '../../base/log.ts';
import { MeshPorts } from '../../base/mesh-ports.ts';
import { hostOf } from '../../../xds/server/start.ts';
import { waitForShutdown } from './shutdown.ts';

const usage = `usage: weft serve --config-dir DIR [--config-dir DIR]... [--xds-address 127.0.0.1:15010] [--monitoring-address 127.0.0.1:15014]
                  [--ca-dir DIR [--trust-domain cluster.local] [--workload-cert-ttl 24h] [--xds-san NAME|IP]...]

--ca-dir serves xDS over TLS (default address 127.0.0.1:${MeshPorts.xdsTls}) with a certificate from the CA in DIR
(created on first start), authenticates proxies by client certificate (\`weft bootstrap --ca-dir\`), and
serves each proxy its workload certificate over SDS. Without it xDS is plaintext, loopback only,
unauthenticated, and no certificates are served.
`;

export async function runServe(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'config-dir': { type: 'string', multiple: true },
        'xds-address': { type: 'string' },
        'monitoring-address': { type: 'string', default: `127.0.0.1:${MeshPorts.monitoring}` },
        'ca-dir': { type: 'string' },
        'trust-domain': { type: 'string', default: DEFAULT_TRUST_DOMAIN },
        'workload-cert-ttl': { type: 'string' },
        'xds-san': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`weft serve: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const given = values['config-dir'] ?? [];
  const dirs = given.map((d) => resolve(d));
  if (dirs.length === 0) {
    process.stderr.write(`weft serve: --config-dir is required\n${usage}`);
    return 2;
  }
  for (const configDir of dirs) {
    if (!existsSync(configDir) || !statSync(configDir).isDirectory()) {
      process.stderr.write(`weft serve: --config-dir ${configDir}: not a directory\n`);
      return 2;
    }
  }
  const caDir = values['ca-dir'];
  const trustDomain = values['trust-domain'];
  const ttlText = values['workload-cert-ttl'];
  const ttlMs = ttlText === undefined ? undefined : parseDurationMs(ttlText);
  const problems = [
    ...(caDir === undefined && (ttlText !== undefined || values['xds-san'] !== undefined) ? ['--workload-cert-ttl and --xds-san need --ca-dir'] : []),
    ...(isValidTrustDomain(trustDomain) ? [] : [`--trust-domain: "${trustDomain}" must be lowercase letters, digits, ".", "-" or "_"`]),
    ...(ttlText !== undefined && (ttlMs === undefined || ttlMs < 10_000) ? [`--workload-cert-ttl: "${ttlText}" is not a duration of at least 10s`] : []),
  ];
  if (problems.length > 0) {
    process.stderr.write(problems.map((p) => `weft serve: ${p}\n`).join('') + usage);
    return 2;
  }
  const xdsAddress = values['xds-address'] ?? `127.0.0.1:${caDir === undefined ? MeshPorts.xdsPlaintext : MeshPorts.xdsTls}`;
  let security: XdsSecurity | undefined;
  try {
    if (caDir !== undefined) {
      const ca = await caFromDir(resolve(caDir), { trustDomain, create: true });
      if (!ca.ok) throw new Error(`--ca-dir: ${ca.error}`);
      security = await createXdsSecurity({
        ca: ca.ca,
        log,
        ...(ttlMs !== undefined ? { workloadCertTtlMs: ttlMs } : {}),
        serving: servingNames(hostOf(xdsAddress), values['xds-san'] ?? []),
      });
    }
    const cp = await startControlPlane({
      source:
        dirs.length === 1 ? new FileSource(dirs[0] as string) : new MergedSource(dirs.map((d, i) => ({ name: given[i] ?? d, source: new FileSource(d) }))),
      xdsAddress,
      monitoringAddress: values['monitoring-address'],
      log,
      ...(security ? { xdsCredentials: security.credentials, authenticate: security.authenticate, debug: { identity: security.status } } : {}),
    });
    security?.attach(cp.cache);
    // One machine-readable line so scripts and tests can find the ports that were bound.
    process.stdout.write(`${JSON.stringify({ event: 'ready', xdsPort: cp.xdsPort, monitoringPort: cp.monitoringPort, tls: security !== undefined })}\n`);
    await waitForShutdown(log);
    await cp.close();
    security?.close();
    return 0;
  } catch (err) {
    security?.close();
    process.stderr.write(`weft serve: ${(err as Error).message}\n`);
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
