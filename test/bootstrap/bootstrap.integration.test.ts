// The real Envoy accepts what renderBootstrap writes: `--mode validate` passes, a running
// Envoy has the xDS cluster, it dials the xDS address with the ADS call and the node
// metadata the server expects (observed by an HTTP/2 listener standing at that address),
// it stays unready while its xDS server is unreachable, and against the real `weft serve`
// it becomes ready.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { XDS_CLUSTER_NAME } from '../../src/base/mesh-ports.ts';
import { renderBootstrap, type BootstrapOptions } from '../../xds/bootstrap/bootstrap.ts';
import { startEnvoy, validateBootstrap } from '../support/envoy.ts';
import { freePort } from '../support/free-port.ts';
import { copyExampleMesh } from '../support/mesh-fixture.ts';
import { startWeftServe } from '../support/weft-serve.ts';
import { startXdsListener } from '../support/xds-listener.ts';

const base: BootstrapOptions = { nodeId: 'web-1', namespace: 'shop', service: 'web', xdsAddress: '127.0.0.1:15010', adminPort: 0 };

describe('real Envoy and the rendered bootstrap', () => {
  it.each<[string, Partial<BootstrapOptions>]>([
    ['SotW, IP address', {}],
    ['delta, DNS name, labels, custom ports', { delta: true, xdsAddress: 'localhost:15010', labels: { app: 'web' }, outboundPort: 16001, adminPort: 16000 }],
    ['IPv6 address, no service', { xdsAddress: '[::1]:15010', service: undefined }],
  ])('passes envoy --mode validate (%s)', async (_name, o) => {
    const { code, output } = await validateBootstrap(renderBootstrap({ ...base, ...o }).yaml);
    expect(output).toContain('OK');
    expect(code).toBe(0);
  });

  it('is rejected by envoy --mode validate when broken (so the check above means something)', async () => {
    const { code } = await validateBootstrap(renderBootstrap(base).yaml.replace('connect_timeout: 1s', 'connect_timeout: soon'));
    expect(code).not.toBe(0);
  });

  it.each([
    ['GRPC', false, '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources'],
    ['DELTA_GRPC', true, '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources'],
  ])('runs with the xDS cluster and opens %s ADS carrying the node', async (_api, delta, path) => {
    const xds = await startXdsListener();
    const envoy = await startEnvoy({
      bootstrapYaml: renderBootstrap({ ...base, delta, xdsAddress: xds.address, labels: { app: 'web' } }).yaml,
      // Nothing answers ADS here, so Envoy stays initializing: wait for admin, not /ready.
      waitFor: 'admin',
    });
    const clusters = await envoy.admin('/clusters');
    expect(clusters).toContain(`${XDS_CLUSTER_NAME}::${xds.address}::`);

    const first = await xds.firstRequest();
    expect(first.path).toBe(path);
    expect(first.request).toMatchObject({
      node: {
        id: 'web-1',
        cluster: 'web.shop',
        metadata: { WEFT_NAMESPACE: 'shop', WEFT_SERVICE: 'web', WEFT_CAPTURE: 'false', WEFT_PROXY_KIND: 'sidecar', WEFT_LABELS: { app: 'web' } },
      },
      // Envoy asks for clusters first; listeners follow once CDS is answered.
      typeUrl: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
    });

    const stats = await envoy.stats(`^cluster\\.${XDS_CLUSTER_NAME}\\.upstream_cx_total$`);
    expect(stats.get(`cluster.${XDS_CLUSTER_NAME}.upstream_cx_total`)).toBeGreaterThanOrEqual(1);
    await envoy.stop();
    await xds.close();
  });

  it("stays unready while its xDS server is unreachable (no initial fetch timeout), unlike Envoy's default", { timeout: 60_000 }, async () => {
    const xdsAddress = `127.0.0.1:${await freePort()}`; // nothing listens there
    const ours = renderBootstrap({ ...base, xdsAddress, outboundPort: await freePort() }).yaml;
    expect(ours.match(/initial_fetch_timeout: 0s/g)).toHaveLength(2);
    // Control: the same bootstrap with a 1 s timeout goes LIVE with no config, as Envoy's
    // 15 s default would, later; so "unready" below is the setting's doing, not slowness.
    const control = ours.replaceAll('initial_fetch_timeout: 0s', 'initial_fetch_timeout: 1s');
    const [envoy, timedOut] = await Promise.all([
      startEnvoy({ bootstrapYaml: ours, waitFor: 'admin' }),
      startEnvoy({ bootstrapYaml: control, waitFor: 'ready' }),
    ]);
    await sleep(4000);
    const ready = await fetch(`${envoy.adminUrl}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toMatch(/INITIALIZING/);
    expect(await timedOut.admin('/ready')).toContain('LIVE');
    await Promise.all([envoy.stop(), timedOut.stop()]);
  });

  it.each([
    ['SotW', false],
    ['delta', true],
  ])('comes up ready (admin /ready) against weft serve over %s', { timeout: 120_000 }, async (_api, delta) => {
    const mesh = await copyExampleMesh();
    const weft = await startWeftServe({ configDir: mesh.dir });
    try {
      // A private outbound port: parallel Envoys on the default one would share it (SO_REUSEPORT).
      const outboundPort = await freePort();
      const envoy = await startEnvoy({ bootstrapYaml: renderBootstrap({ ...base, delta, outboundPort, xdsAddress: weft.xdsAddress }).yaml });
      expect(await envoy.admin('/ready')).toContain('LIVE');
      expect(await envoy.admin('/clusters')).toContain(`${XDS_CLUSTER_NAME}::${weft.xdsAddress}::`);
      const stats = await envoy.stats('^(cluster_manager\\.cds|listener_manager\\.lds)\\.update_(success|rejected)$');
      expect(stats.get('cluster_manager.cds.update_success')).toBeGreaterThanOrEqual(1);
      expect(stats.get('listener_manager.lds.update_success')).toBeGreaterThanOrEqual(1);
      expect(stats.get('cluster_manager.cds.update_rejected')).toBe(0);
      expect(stats.get('listener_manager.lds.update_rejected')).toBe(0);
      await envoy.stop();
    } finally {
      await weft.stop();
    }
  });
});
