// PeerAuth between real Envoys without a control plane: each Envoy runs the resources
// translate builds for it from one model (static bootstrap), with real SVIDs from Weft's
// CA as static secrets in place of SDS. Isolates translation from the xDS/SDS server;
// peerauth.integration.test.ts runs the same cases with `weft serve --ca-dir` serving everything.
import { afterAll, beforeAll, describe } from 'vitest';
import type { CertificateAuthority } from '../../src/ca/authority.ts';
import { buildModel } from '../../src/model/build.ts';
import type { MeshModel } from '../../src/model/types.ts';
import type { ProxyInfo } from '../../xds/resources/proxy.ts';
import { EXPLICIT_INBOUND_LISTENER, EXPLICIT_OUTBOUND_LISTENER } from '../../xds/resources/names.ts';
import { translate } from '../../xds/translate/index.ts';
import { startBackend } from '../support/backends.ts';
import { startEnvoy, type EnvoyHandle } from '../support/envoy.ts';
import { freePorts } from '../support/free-port.ts';
import { staticBootstrapYaml } from '../translate/static-bootstrap.ts';
import { parseDocuments } from '../translate/support.ts';
import { testCa, workloadSecrets } from '../translate/test-secrets.ts';
import { clientProxy, meshYaml, MODES, peerAuthCases, serverProxy, type Mode, peerAuthEnv, type PeerAuthEnv } from './peerauth-cases.ts';

async function startProxy(model: MeshModel, ca: CertificateAuthority, proxy: ProxyInfo, ports: Record<string, number>): Promise<EnvoyHandle> {
  const secrets = await workloadSecrets(ca, proxy.namespace, proxy.id);
  return startEnvoy({ bootstrapYaml: staticBootstrapYaml(translate(model, proxy), { secrets, listenerPorts: ports, nodeId: proxy.id }) });
}

describe('PeerAuth between real Envoys (static resources and secrets)', () => {
  let env: PeerAuthEnv | undefined;
  const envoys: EnvoyHandle[] = [];

  beforeAll(async () => {
    const ca = await testCa();
    const ports = await freePorts(1 + 2 * MODES.length);
    const clientPort = ports[0] as number;
    const inbound = Object.fromEntries(MODES.map((m, i) => [m, ports[1 + i] as number])) as Record<Mode, number>;
    const apps = Object.fromEntries(await Promise.all(MODES.map(async (m) => [m, await startBackend({ name: m })] as const))) as PeerAuthEnv['apps'];
    const model = buildModel(parseDocuments(meshYaml({ strict: apps.strict.port, permissive: apps.permissive.port, disable: apps.disable.port }, inbound)));
    // Four Envoys in parallel; each server's (unused) outbound proxy listener gets its own port too.
    const [client, ...servers] = await Promise.all([
      startProxy(model, ca, clientProxy(), { [EXPLICIT_OUTBOUND_LISTENER]: clientPort }),
      ...MODES.map((m, i) =>
        startProxy(model, ca, serverProxy(m, inbound[m]), {
          [EXPLICIT_INBOUND_LISTENER]: inbound[m],
          [EXPLICIT_OUTBOUND_LISTENER]: ports[1 + MODES.length + i] as number,
        }),
      ),
    ]);
    envoys.push(client as EnvoyHandle, ...servers);
    env = await peerAuthEnv(ca, { client: client as EnvoyHandle, clientPort, servers, inbound, apps });
  });

  afterAll(async () => {
    await Promise.all(envoys.map((e) => e.stop()));
  });

  peerAuthCases(() => {
    if (!env) throw new Error('setup failed');
    return env;
  });
});
