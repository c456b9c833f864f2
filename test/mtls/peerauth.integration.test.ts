// PeerAuth between real Envoys with certificates over real SDS: `weft serve --ca-dir` reads
// the mesh from a config directory, serves every proxy its translated resources over TLS
// xDS and its own workload certificate and trust bundle over SDS on the same stream; each
// Envoy starts from `weft bootstrap --ca-dir` (client certificate for its identity).
// Client Envoy (explicit mode) → server Envoy (explicit inbound listener) → app, on loopback.
// Then a live PeerAuth edit: the modes flip without restarting anything.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caFromDir } from '../../src/identity/ca-dir.ts';
import { startBackend } from '../support/backends.ts';
import { startEnvoy, type EnvoyHandle } from '../support/envoy.ts';
import { freePorts } from '../support/free-port.ts';
import { startWeftServe, type WeftServe } from '../support/weft-serve.ts';
import { meshYaml, MODES, peerAuthCases, peerAuthYaml, type Mode, peerAuthEnv, type PeerAuthEnv } from './peerauth-cases.ts';
import { plaintext, viaProxy, type Outcome } from './support.ts';
import { meshProxyArgs, weftBootstrap } from '../support/weft-bootstrap.ts';

async function until(what: string, ok: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const is200 = (o: Outcome) => o.ok && o.status === 200;

describe('PeerAuth between real Envoys (weft serve --ca-dir: TLS xDS, SDS certificates)', () => {
  let env: PeerAuthEnv | undefined;
  let serve: WeftServe | undefined;
  let configDir = '';
  let caDir = '';
  let apps: PeerAuthEnv['apps'];
  let inbound: Record<Mode, number>;
  const envoys: EnvoyHandle[] = [];

  beforeAll(async () => {
    [configDir, caDir] = await Promise.all([mkdtemp(join(tmpdir(), 'weft-mtls-mesh-')), mkdtemp(join(tmpdir(), 'weft-mtls-ca-'))]);
    const ports = await freePorts(1 + 2 * MODES.length);
    const clientPort = ports[0] as number;
    inbound = Object.fromEntries(MODES.map((m, i) => [m, ports[1 + i] as number])) as Record<Mode, number>;
    apps = Object.fromEntries(await Promise.all(MODES.map(async (m) => [m, await startBackend({ name: m })] as const))) as PeerAuthEnv['apps'];
    await writeFile(join(configDir, 'mesh.yaml'), meshYaml(appPorts(), inbound));
    serve = await startWeftServe({ configDir, extraArgs: ['--ca-dir', caDir] });
    const loaded = await caFromDir(caDir, { trustDomain: 'cluster.local', create: false });
    if (!loaded.ok) throw new Error(loaded.error);
    const ca = loaded.ca;

    const at = { xdsAddress: serve.xdsAddress, caDir };
    const proxyArgs = (sa: string, outboundPort: number) => meshProxyArgs(at, sa, outboundPort);
    // Servers: the explicit inbound listener on the port their endpoints advertise.
    const [clientYaml, ...serverYamls] = await Promise.all([
      weftBootstrap(proxyArgs('client', clientPort)),
      ...MODES.map((m, i) => weftBootstrap([...proxyArgs(`pay-${m}`, ports[1 + MODES.length + i] as number), '--inbound-port', String(inbound[m])])),
    ]);
    const [client, ...servers] = await Promise.all([clientYaml, ...serverYamls].map((bootstrapYaml) => startEnvoy({ bootstrapYaml: bootstrapYaml as string })));
    envoys.push(client as EnvoyHandle, ...servers);
    env = await peerAuthEnv(ca, { client: client as EnvoyHandle, clientPort, servers, inbound, apps });
    // Listeners and clusters arrive with their SDS secrets (warming waits for them); the
    // first request proves the client's cluster and the server's listener are both live.
    await until('the first request through the mesh', async () => is200(await viaProxy(clientPort, 'http://pay-permissive.shop:8080/')));
  });

  afterAll(async () => {
    await Promise.all(envoys.map((e) => e.stop()));
    await serve?.stop();
    await Promise.all([configDir, caDir].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
  });

  const appPorts = () => ({ strict: apps.strict.port, permissive: apps.permissive.port, disable: apps.disable.port });
  const current = () => {
    if (!env) throw new Error('setup failed');
    return env;
  };

  peerAuthCases(current);

  it('follows a PeerAuth edit live: PERMISSIVE → STRICT refuses plaintext, STRICT → DISABLE serves it', async () => {
    const { clientPort } = current();
    const text = meshYaml(appPorts(), inbound)
      .replace(peerAuthYaml('strict', 'pay-strict', 'STRICT'), peerAuthYaml('strict', 'pay-strict', 'DISABLE'))
      .concat('---\n', peerAuthYaml('permissive', 'pay-permissive', 'STRICT'));
    expect(text).toContain('{app: pay-strict}}, mtls: {mode: DISABLE}');
    await writeFile(join(configDir, 'mesh.yaml'), text);
    await until('the new modes in both proxies', async () => {
      const [p, s] = await Promise.all([plaintext(inbound.permissive), plaintext(inbound.strict)]);
      return !p.ok && is200(s);
    });
    // The client follows too (EDS marks): TLS to the now-STRICT service, plaintext to the DISABLEd one.
    await until('the meshed client on both', async () => {
      const [p, s] = await Promise.all([viaProxy(clientPort, 'http://pay-permissive.shop:8080/'), viaProxy(clientPort, 'http://pay-strict.shop:8080/')]);
      return is200(p) && is200(s);
    });
    // No proxy rejected anything along the way (named, with log tails, if one did).
    const rejected = (await Promise.all(envoys.map(async (e) => [...(await e.stats('update_rejected$')).entries()].filter(([, v]) => v > 0)))).flatMap(
      (list, i) => list.map(([name]) => `${i === 0 ? 'client' : `pay-${MODES[i - 1]}`}: ${name}`),
    );
    const logs = rejected.length > 0 ? (await Promise.all(envoys.map((e) => e.logs()))).map((l) => l.slice(-2000)).join('\n---\n') : '';
    expect(rejected, logs).toEqual([]);
  });
});
