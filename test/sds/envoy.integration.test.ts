// A real Envoy outside Kubernetes: `weft serve --ca-dir` (TLS xDS, SDS) and a bootstrap from
// `weft bootstrap --ca-dir` (client certificate inline). Envoy dials xDS over TLS, is
// authenticated by its certificate, receives its config, and — once something references
// them (here a static TLS listener asking for `default` and `ROOTCA` over ADS, until mTLS
// translation references them) — its workload certificate and the trust bundle, which rotate
// under it without a restart. An Envoy with a certificate from another CA gets nothing.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { splitCertificates } from '../../src/ca/pem.ts';
import { CA_FILE } from '../../src/identity/ca-dir.ts';
import { startEnvoy } from '../support/envoy.ts';
import { freePorts } from '../support/free-port.ts';
import { exampleMeshDir } from '../support/mesh-fixture.ts';
import { startWeftServe, weftBin, type WeftServe } from '../support/weft-serve.ts';
import { handshake, serialOf, until, withSdsProbeListener, workloadCert } from './envoy-support.ts';
import { newCa } from './support.ts';

const IDENTITY = 'spiffe://cluster.local/ns/shop/sa/checkout';

async function weftBootstrap(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [weftBin, 'bootstrap', ...args], { maxBuffer: 1 << 20 });
  return stdout;
}

/** The client certificate `weft bootstrap --ca-dir` inlined in the xDS cluster's TLS context. */
function xdsClientCertPem(bootstrapYaml: string): string {
  type Doc = {
    static_resources: {
      clusters: { transport_socket?: { typed_config: { common_tls_context: { tls_certificates: { certificate_chain: { inline_string: string } }[] } } } }[];
    };
  };
  const pem = (parseYaml(bootstrapYaml) as Doc).static_resources.clusters[0]?.transport_socket?.typed_config.common_tls_context.tls_certificates[0]
    ?.certificate_chain.inline_string;
  if (pem === undefined) throw new Error('the bootstrap has no inline xDS client certificate');
  return pem;
}

describe('Envoy from weft bootstrap --ca-dir against weft serve --ca-dir', () => {
  let caDir: string;
  let serve: WeftServe;
  let rootPem: string;
  beforeAll(async () => {
    caDir = await mkdtemp(join(tmpdir(), 'weft-ca-'));
    serve = await startWeftServe({ configDir: exampleMeshDir, extraArgs: ['--ca-dir', caDir, '--workload-cert-ttl', '20s'] });
    rootPem = splitCertificates(await readFile(join(caDir, CA_FILE), 'utf8'))[0]!;
  }, 90_000);
  afterAll(() => serve?.stop());

  it('connects over TLS with its client certificate, gets config, its workload certificate, and rotations', async () => {
    const [probePort = 0, outboundPort = 0] = await freePorts(2);
    const yaml = await weftBootstrap([
      '--node-id',
      'vm-1',
      '--namespace',
      'shop',
      '--service',
      'checkout',
      '--xds-address',
      serve.xdsAddress,
      '--outbound-port',
      String(outboundPort),
      '--ca-dir',
      caDir,
      '--service-account',
      'checkout',
    ]);
    expect(yaml).toContain('envoy.transport_sockets.tls');
    const clientSerial = serialOf(xdsClientCertPem(yaml));
    const envoy = await startEnvoy({ bootstrapYaml: withSdsProbeListener(yaml, probePort), waitFor: 'ready' });
    try {
      // Config over TLS: the xDS cluster handshook, the mesh's clusters arrived.
      const stats = await envoy.stats('^cluster\\.weft-xds\\.ssl\\.handshake$|^control_plane\\.connected_state$');
      expect(stats.get('cluster.weft-xds.ssl.handshake')).toBeGreaterThan(0);
      expect(stats.get('control_plane.connected_state')).toBe(1);
      expect(JSON.stringify(await envoy.configDump())).toContain('checkout.shop.svc.cluster.local');

      // The server took the identity from the certificate.
      const proxies = (await (await fetch(`${serve.monitoringUrl}/debug/proxies`)).json()) as { id: string; identity?: string }[];
      expect(proxies.find((p) => p.id === 'vm-1')?.identity).toBe(IDENTITY);

      // SDS: the workload certificate and the roots, shown by /certs and served on the listener.
      const first = await until('the workload certificate in /certs', () => workloadCert(envoy, clientSerial), 30_000);
      expect(first.uri).toBe(IDENTITY);
      expect(first.roots).toBeGreaterThan(0);
      const served = await until('the TLS probe listener', () => handshake(probePort, rootPem), 30_000);
      expect(served.serialNumber.toLowerCase()).toBe(first.serial);
      expect(served.subjectAltName).toBe(`URI:${IDENTITY}`);
      expect(served.checkIssued(new X509Certificate(rootPem))).toBe(true);

      // A 20 s certificate is renewed at 10 s ± 2 s and pushed; Envoy swaps it without a restart.
      const t0 = Date.now();
      const next = await until(
        'a rotated workload certificate',
        async () => {
          const c = await workloadCert(envoy, clientSerial);
          return c && c.serial !== first.serial ? c : undefined;
        },
        30_000,
      );
      expect(next.uri).toBe(IDENTITY);
      const rotatedServed = await handshake(probePort, rootPem);
      expect(rotatedServed.serialNumber.toLowerCase()).toBe(next.serial);
      console.info(
        `[sds envoy] workload certificate rotated ${Date.now() - t0} ms after first seen; serials ${first.serial.slice(0, 8)}… → ${next.serial.slice(0, 8)}…`,
      );
      const rejected = await envoy.stats('update_rejected');
      expect([...rejected.values()].every((v) => v === 0)).toBe(true);
    } finally {
      await envoy.stop();
    }
  }, 180_000);

  it('gives an Envoy with a certificate from another CA nothing', async () => {
    const other = await newCa();
    const r = await other.issueSvid({ namespace: 'shop', serviceAccount: 'checkout' });
    if (!r.ok) throw new Error(r.reason);
    const dir = await mkdtemp(join(tmpdir(), 'weft-foreign-'));
    await writeFile(join(dir, 'cert.pem'), r.cert.chainPem);
    await writeFile(join(dir, 'key.pem'), r.cert.keyPem!, { mode: 0o600 });
    await writeFile(join(dir, 'ca.pem'), rootPem);
    const [outboundPort = 0] = await freePorts(1);
    const yaml = await weftBootstrap([
      '--node-id',
      'intruder',
      '--namespace',
      'shop',
      '--service',
      'checkout',
      '--xds-address',
      serve.xdsAddress,
      '--outbound-port',
      String(outboundPort),
      '--cert',
      join(dir, 'cert.pem'),
      '--key',
      join(dir, 'key.pem'),
      '--ca',
      join(dir, 'ca.pem'),
    ]);
    expect(yaml).toContain(join(dir, 'key.pem'));
    const envoy = await startEnvoy({ bootstrapYaml: yaml, waitFor: 'admin' });
    try {
      await until(
        "the refusal in weft serve's log",
        async () => (serve.output().includes('"node":"intruder"') && /authentication refused/.test(serve.output()) ? true : undefined),
        45_000,
      );
      const stats = await envoy.stats('^control_plane\\.connected_state$|^cluster_manager\\.cds\\.update_success$');
      expect(stats.get('cluster_manager.cds.update_success') ?? 0).toBe(0);
      expect(await workloadCert(envoy, serialOf(r.cert.chainPem))).toBeUndefined();
    } finally {
      await envoy.stop();
    }
  }, 120_000);
});
