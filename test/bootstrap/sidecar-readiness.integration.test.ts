// The sidecar bootstrap's readiness contract, without running a mesh: Envoy accepts the
// bootstrap (with and without app probes), its initial CDS/LDS fetches are bounded, and the
// cluster /healthz/ready waits for is one translation really sends the proxy that bootstrap
// describes (if translation ever stopped sending it, every sidecar would stay unready).
// test/bootstrap/probes-without-control-plane.integration.test.ts runs the whole story in a real Envoy.
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/model/build.ts';
import { proxyFromNode } from '../../xds/resources/node-info.ts';
import {
  buildSidecarBootstrap,
  CONFIG_MARKER_CLUSTER,
  renderSidecarBootstrap,
  SIDECAR_INITIAL_FETCH_TIMEOUT_MS,
  type SidecarBootstrapOptions,
} from '../../xds/bootstrap/sidecar.ts';
import { translate } from '../../xds/translate/index.ts';
import { validateBootstrap } from '../support/envoy.ts';
import { trustBundlePem } from '../webhook/fixtures.ts';

const base: SidecarBootstrapOptions = {
  namespace: 'shop',
  labels: { app: 'web' },
  xdsAddress: 'weft.weft-system.svc:15012',
  trustBundlePem,
  tokenPath: '/var/run/secrets/weft/token',
};
const probes = [{ path: '/app-health/web/livez', port: 8080, originalPath: '/healthz', headers: [{ name: 'x-probe', value: 'k' }], timeoutSeconds: 2 }];

describe('sidecar bootstrap readiness', () => {
  it.each([
    ['without app probes', base],
    ['with app probes', { ...base, appProbes: probes }],
  ])('passes envoy --mode validate (%s)', async (_n, opts) => {
    const { code, output } = await validateBootstrap(renderSidecarBootstrap(opts));
    expect(output).toContain('OK');
    expect(code).toBe(0);
  });

  it('bounds the initial CDS and LDS fetches', () => {
    const b = buildSidecarBootstrap(base);
    const ms = (d: { seconds: bigint; nanos: number } | undefined) => (d ? Number(d.seconds) * 1000 + d.nanos / 1e6 : undefined);
    expect(ms(b.dynamicResources?.cdsConfig?.initialFetchTimeout)).toBe(SIDECAR_INITIAL_FETCH_TIMEOUT_MS);
    expect(ms(b.dynamicResources?.ldsConfig?.initialFetchTimeout)).toBe(SIDECAR_INITIAL_FETCH_TIMEOUT_MS);
  });

  it('waits for a cluster translation sends to the proxy the bootstrap describes, even in an empty mesh', () => {
    const node = buildSidecarBootstrap(base).node;
    const proxy = proxyFromNode(node);
    if (!proxy.ok) throw new Error(proxy.reason);
    expect(proxy.proxy.capture).toBe(true);
    const clusters = translate(buildModel([]), proxy.proxy).clusters.map((c) => c.name);
    expect(clusters).toContain(CONFIG_MARKER_CLUSTER);
  });
});
