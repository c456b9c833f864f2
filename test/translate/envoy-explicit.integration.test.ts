// The explicit-mode listener really is an HTTP proxy: a real Envoy runs the translated
// resources (static form, listener moved off the fixed 15001 so tests can run in
// parallel) and real backends answer. Requests use the absolute form `curl -x` sends.
// Also checks the retry routes in a real Envoy: GETs are retried past a failure, POSTs
// and exempt paths are not.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPLICIT_OUTBOUND_LISTENER } from '../../xds/resources/names.ts';
import { translate } from '../../xds/translate/index.ts';
import { startBackend, type Backend } from '../support/backends.ts';
import { startEnvoy, type EnvoyHandle } from '../support/envoy.ts';
import { freePort } from '../support/free-port.ts';
import { explicitProxy, model, retry, service, slice } from './fixtures.ts';
import { staticBootstrapYaml } from './static-bootstrap.ts';

/** `curl -x http://127.0.0.1:<proxyPort> <url>`: absolute-form request line, Host from the URL. */
function viaProxy(proxyPort: number, url: string, method = 'GET'): Promise<{ status: number; backend: string }> {
  const host = new URL(url).host;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, method, path: url, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, backend: String(res.headers['x-backend'] ?? '') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('explicit HTTP proxy in a real Envoy', () => {
  let web: Backend;
  let checkout: Backend;
  let envoy: EnvoyHandle;
  let port: number;

  beforeAll(async () => {
    web = await startBackend({ name: 'web' });
    checkout = await startBackend({ name: 'checkout' });
    const m = model(
      service('web', [{ name: 'http', port: 80 }]),
      service('checkout', [{ name: 'http', port: 8080 }], { ns: 'billing' }),
      slice('web-1', 'web', [{ name: 'http', port: web.port }], [{ ip: '127.0.0.1' }]),
      slice('checkout-1', 'checkout', [{ name: 'http', port: checkout.port }], [{ ip: '127.0.0.1' }], { ns: 'billing' }),
      retry('checkout', 'checkout', { attempts: 2, retryOn: ['5xx'], exemptPaths: ['/healthz'] }, { ns: 'billing' }),
    );
    port = await freePort();
    const yaml = staticBootstrapYaml(translate(m, explicitProxy('shop')), { listenerPorts: { [EXPLICIT_OUTBOUND_LISTENER]: port } });
    envoy = await startEnvoy({ bootstrapYaml: yaml });
  });

  afterAll(async () => {
    await envoy?.stop();
  });

  it('routes absolute-form requests by host:port, and bare hosts on port 80', async () => {
    expect(await viaProxy(port, 'http://checkout.billing:8080/')).toEqual({ status: 200, backend: 'checkout' });
    expect(await viaProxy(port, 'http://checkout.billing.svc.cluster.local:8080/x')).toEqual({ status: 200, backend: 'checkout' });
    expect(await viaProxy(port, 'http://web/')).toEqual({ status: 200, backend: 'web' });
    expect(await viaProxy(port, 'http://web.shop:80/')).toEqual({ status: 200, backend: 'web' });
  });

  it('does not resolve short names of other namespaces, nor unknown hosts', async () => {
    expect((await viaProxy(port, 'http://checkout:8080/')).status).toBe(404);
    expect((await viaProxy(port, 'http://elsewhere.example:8080/')).status).toBe(404);
  });

  it('retries GET past a failure, but not POST or an exempt path', async () => {
    // Every other request fails: a retried request always succeeds on its second try.
    checkout.setFailPattern((n) => n % 2 === 1);
    checkout.resetCounts();
    expect((await viaProxy(port, 'http://checkout.billing:8080/')).status).toBe(200);
    expect(checkout.requests).toBe(2);
    checkout.resetCounts();
    expect((await viaProxy(port, 'http://checkout.billing:8080/', 'POST')).status).toBe(503);
    expect((await viaProxy(port, 'http://checkout.billing:8080/healthz')).status).toBe(200);
    checkout.resetCounts();
    expect((await viaProxy(port, 'http://checkout.billing:8080/healthz/live')).status).toBe(503);
    expect(checkout.requests).toBe(1);
    checkout.setFailPattern(false);
  });
});
