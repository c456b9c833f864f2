// Workload certificate rotation under load. `weft serve --ca-dir --workload-cert-ttl 2m`
// serves two real Envoys (from `weft bootstrap --ca-dir`) their SVIDs over SDS: a client
// proxy (explicit HTTP proxy) and a server proxy in front of an app, with PeerAuth STRICT on
// the server, so every request crosses mTLS between them. A request loop runs without pause
// while both certificates are renewed (at about half their 2-minute life, ±10 %: 48–72 s)
// and keeps running a while after; then bursts of concurrent requests open new connections,
// which can only handshake with the renewed certificates. Not one request may fail.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startBackend, type Backend } from '../../test/support/backends.ts';
import { startEnvoy, type EnvoyHandle } from '../../test/support/envoy.ts';
import { freePorts } from '../../test/support/free-port.ts';
import { startWeftServe, type WeftServe } from '../../test/support/weft-serve.ts';
import { serialOf, until, workloadCert } from '../../test/sds/envoy-support.ts';
import { strictPayMeshYaml, sumStats, viaProxy, type Outcome } from '../../test/mtls/support.ts';
import { meshProxyArgs, weftBootstrap } from '../../test/support/weft-bootstrap.ts';

const TTL = '2m';
const URL_ = 'http://pay.shop:8080/';

/** The serial of the xDS client certificate in a `weft bootstrap --ca-dir` bootstrap (/certs lists it too). */
function xdsClientSerial(bootstrapYaml: string): string {
  type Doc = {
    static_resources: {
      clusters: { transport_socket?: { typed_config: { common_tls_context: { tls_certificates: { certificate_chain: { inline_string: string } }[] } } } }[];
    };
  };
  const pem = (parseYaml(bootstrapYaml) as Doc).static_resources.clusters[0]?.transport_socket?.typed_config.common_tls_context.tls_certificates[0]
    ?.certificate_chain.inline_string;
  if (pem === undefined) throw new Error('the bootstrap has no inline xDS client certificate');
  return serialOf(pem);
}

describe(`workload certificates (TTL ${TTL}) rotate under a continuous request loop with STRICT mTLS`, () => {
  let serve: WeftServe;
  let app: Backend;
  let configDir = '';
  let caDir = '';
  let clientPort = 0;
  const proxies: { name: string; envoy: EnvoyHandle; xdsSerial: string }[] = [];

  beforeAll(async () => {
    [configDir, caDir] = await Promise.all([mkdtemp(join(tmpdir(), 'weft-rot-mesh-')), mkdtemp(join(tmpdir(), 'weft-rot-ca-'))]);
    const [cp = 0, inbound = 0, serverOutbound = 0] = await freePorts(3);
    clientPort = cp;
    app = await startBackend({ name: 'pay' });
    await writeFile(join(configDir, 'mesh.yaml'), strictPayMeshYaml(app.port, inbound));
    serve = await startWeftServe({ configDir, extraArgs: ['--ca-dir', caDir, '--workload-cert-ttl', TTL] });
    const at = { xdsAddress: serve.xdsAddress, caDir };
    const args = (sa: string, outbound: number) => meshProxyArgs(at, sa, outbound);
    const [clientYaml, serverYaml] = await Promise.all([
      weftBootstrap(args('client', clientPort)),
      weftBootstrap([...args('pay', serverOutbound), '--inbound-port', String(inbound)]),
    ]);
    const [client, server] = await Promise.all([startEnvoy({ bootstrapYaml: clientYaml }), startEnvoy({ bootstrapYaml: serverYaml })]);
    proxies.push(
      { name: 'client', envoy: client, xdsSerial: xdsClientSerial(clientYaml) },
      { name: 'server', envoy: server, xdsSerial: xdsClientSerial(serverYaml) },
    );
    await until('the first request through the mesh', async () => ((await ok(viaProxy(clientPort, URL_))) ? true : undefined), 30_000);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.envoy.stop()));
    await serve?.stop();
    await Promise.all([configDir, caDir].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
  });

  const ok = async (o: Promise<Outcome>): Promise<boolean> => {
    const r = await o;
    return r.ok && r.status === 200;
  };
  const serial = async (p: (typeof proxies)[number]) => (await workloadCert(p.envoy, p.xdsSerial))?.serial;
  const handshakes = async (): Promise<{ server: number; client: number }> => ({
    server: sumStats(await proxies[1]!.envoy.stats('ssl\\.handshake$'), /^listener\./),
    client: sumStats(await proxies[0]!.envoy.stats('ssl\\.handshake$'), /^cluster\.outbound\|8080\|\|pay\./),
  });

  it('renews both certificates with zero failed requests; new connections handshake with the renewed ones', async () => {
    const start = Date.now();
    const initial = await Promise.all(proxies.map(serial));
    expect(initial.every((s) => s !== undefined)).toBe(true);
    const rotatedAt: (number | undefined)[] = proxies.map(() => undefined);
    const failures: string[] = [];
    let requests = 0;
    let stop = false;

    const loop = (async () => {
      while (!stop) {
        const r = await viaProxy(clientPort, URL_);
        requests++;
        if (!r.ok || r.status !== 200) failures.push(`${((Date.now() - start) / 1000).toFixed(1)}s: ${r.ok ? `HTTP ${r.status}` : r.error}`);
      }
    })();
    const watcher = (async () => {
      while (!stop) {
        const now = await Promise.all(proxies.map(serial));
        now.forEach((s, i) => {
          if (rotatedAt[i] === undefined && s !== undefined && s !== initial[i]) rotatedAt[i] = Date.now() - start;
        });
        await sleep(500);
      }
    })();

    // Renewal is due at 48–72 s; wait for both (up to 100 s), then keep the loop going 5 s more.
    const deadline = start + 100_000;
    while (rotatedAt.some((t) => t === undefined) && Date.now() < deadline) await sleep(500);
    await sleep(5_000);
    const before = await handshakes();
    // Concurrent bursts need more connections than the pool holds: new handshakes, new certificates only.
    for (let b = 0; b < 3; b++) {
      const burst = await Promise.all(Array.from({ length: 16 }, () => viaProxy(clientPort, URL_)));
      requests += burst.length;
      burst.forEach((r) => (!r.ok || r.status !== 200) && failures.push(`burst ${b}: ${r.ok ? `HTTP ${r.status}` : r.error}`));
    }
    const after = await handshakes();
    stop = true;
    await Promise.all([loop, watcher]);

    const final = await Promise.all(proxies.map(serial));
    const seconds = ((Date.now() - start) / 1000).toFixed(1);
    console.log(
      `rotation under load: ${requests} requests in ${seconds} s, ${failures.length} failed; ` +
        proxies
          .map((p, i) => `${p.name} ${initial[i]} → ${final[i]} at ${rotatedAt[i] === undefined ? 'never' : `${(rotatedAt[i] / 1000).toFixed(1)} s`}`)
          .join('; ') +
        `; handshakes after rotation: server +${after.server - before.server}, client +${after.client - before.client}`,
    );
    expect(failures).toEqual([]);
    expect(rotatedAt.every((t) => t !== undefined)).toBe(true);
    final.forEach((s, i) => expect(s, proxies[i]!.name).not.toBe(initial[i]));
    expect(after.server - before.server).toBeGreaterThan(0);
    expect(requests).toBeGreaterThan(500);
  }, 180_000);
});
