// Telemetry on real Pods (docs/telemetry.md): a namespace labelled for access logs, a client and a
// checkout Pod injected by the real webhook, traffic between them over the mesh. The client's
// sidecar writes JSON access log lines to its stdout (kubectl logs -c weft-proxy) and exposes the
// golden-signal series, tagged with the pair, on its scrape port; the checkout sidecar says the
// requests arrived over mTLS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_LOG_FIELDS } from '../../xds/translate/telemetry.ts';
import { Annotations } from '../../webhook/values.ts';
import { eventually } from '../support/kube.ts';
import { napply, nk, nodeSuitesEnabled } from '../node/support.ts';
import { installWeft, type WeftRelease } from './support/weft.ts';
import { checkoutPod, copyShopApp, pods, waitPodReady } from './support/shop.ts';

/** The Prometheus text of a sidecar's scrape port (the host reaches Pod IPs on the bridge). */
async function scrape(podIP: string): Promise<string> {
  const res = await fetch(`http://${podIP}:15090/stats/prometheus`, { signal: AbortSignal.timeout(10_000) });
  return res.text();
}

/** Sum of the series of `metric` whose labels include every `labels` pair. */
function sum(text: string, metric: string, labels: Readonly<Record<string, string>>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

describe.skipIf(!nodeSuitesEnabled)('telemetry on real Pods', () => {
  let rel: WeftRelease;
  let ns: { name: string; remove: () => Promise<void> };

  beforeAll(async () => {
    rel = await installWeft();
    ns = await rel.meshNamespace('telemetry');
    // Access logs for this namespace only (the chart default stays off).
    await nk(['label', 'namespace', ns.name, `${Annotations.accessLog}=true`]);
    await copyShopApp(ns.name);
    await napply(
      [
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'checkout' },
          spec: { selector: { app: 'checkout' }, ports: [{ name: 'http', port: 8080, targetPort: 'http' }] },
        },
        checkoutPod('checkout', { labels: { app: 'checkout' } }),
        checkoutPod('client', { labels: { app: 'client' } }),
      ],
      ns.name,
    );
    await waitPodReady(ns.name, 'checkout', 180_000);
    await waitPodReady(ns.name, 'client', 180_000);
    const url = `http://checkout.${ns.name}.svc.cluster.local:8080/`;
    await eventually(
      async () => {
        const r = await nk([
          '-n',
          ns.name,
          'exec',
          'client',
          '-c',
          'app',
          '--',
          'node',
          '/shop/shop.ts',
          'load',
          '--url',
          url,
          '--count',
          '40',
          '--rate',
          '40',
          '--timeout-ms',
          '3000',
        ]);
        const summary = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { requests?: number; errors?: Record<string, number> };
        if (Object.values(summary.errors ?? {}).reduce((a, b) => a + b, 0) > 0) throw new Error(`load errors: ${r.stdout.slice(-400)}`);
      },
      { timeoutMs: 90_000 },
    );
  }, 900_000);

  afterAll(async () => {
    await ns?.remove();
    await rel?.uninstall();
  }, 180_000);

  it("the client's sidecar writes JSON access log lines with every documented field to its stdout", async () => {
    let entries: Record<string, unknown>[] = [];
    // Envoy flushes access logs about every 10 s.
    await eventually(
      async () => {
        const logs = (await nk(['-n', ns.name, 'logs', 'client', '-c', 'weft-proxy'])).stdout;
        entries = logs
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .filter((e) => e.direction === 'outbound' && typeof e.upstream_cluster === 'string' && e.upstream_cluster.includes('checkout'));
        if (entries.length < 40) throw new Error(`${entries.length} outbound access log lines so far`);
      },
      { timeoutMs: 60_000 },
    );
    for (const e of entries) expect(Object.keys(e).sort()).toEqual(Object.keys(ACCESS_LOG_FIELDS).sort());
    expect(entries[0]).toMatchObject({ method: 'GET', response_code: 200, upstream_cluster: `outbound|8080||checkout.${ns.name}.svc.cluster.local` });
    // Auto mTLS: the client's sidecar knows whom it talked to.
    expect(entries[0]?.upstream_peer_identity).toBe(`spiffe://cluster.local/ns/${ns.name}/sa/default`);
  });

  it('the sidecars expose the golden-signal series, tagged with the pair, on the scrape port', async () => {
    const [client] = await pods(ns.name, 'app=client');
    const [server] = await pods(ns.name, 'app=checkout');
    const clientText = await scrape(client?.status.podIP ?? '');
    const pair = { source_workload: 'client', source_namespace: ns.name, destination_service: 'checkout', destination_namespace: ns.name };
    expect(sum(clientText, 'envoy_cluster_upstream_rq_total', pair)).toBeGreaterThanOrEqual(40);
    expect(sum(clientText, 'envoy_cluster_upstream_rq_xx', { ...pair, envoy_response_code_class: '2' })).toBeGreaterThanOrEqual(40);
    expect(sum(clientText, 'envoy_cluster_upstream_rq_time_count', pair)).toBeGreaterThanOrEqual(40);
    expect(sum(clientText, 'envoy_cluster_upstream_cx_tx_bytes_total', pair)).toBeGreaterThan(0);
    expect(clientText).toContain(`source_identity="spiffe://cluster.local/ns/${ns.name}/sa/default"`);
    const serverText = await scrape(server?.status.podIP ?? '');
    expect(sum(serverText, 'envoy_http_downstream_rq_total', { source_workload: 'checkout', security: 'mtls' })).toBeGreaterThanOrEqual(40);
  });
});
