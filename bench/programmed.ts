// `npm run bench -- programmed [--proxies N] [--services S] [--namespaces K]`: what one
// replica's report costs (src/runtime/controller/programmed.ts): N connected sidecars in K
// namespaces (one proxy group each, real translation and snapshot cache), S Services each
// with a RetryPolicy, every sidecar subscribed to every route configuration of its snapshot.
// Prints the time of a report pass (every second on each replica) and the report's size.
// Never fails on timing.
import { parseArgs } from 'node:util';
import { LocalProgress, type ProxyView } from '../src/runtime/controller/programmed.ts';
import { encodeReport } from '../src/runtime/controller/replica-report.ts';
import type { ProxyInfo } from '../xds/resources/proxy.ts';
import { TypeUrl } from '../xds/resources/type-urls.ts';
import type { StreamDebug } from '../xds/server/stream.ts';
import { SnapshotCache } from '../xds/snapshot/cache.ts';
import { checkConsistency, translate } from '../xds/translate/index.ts';
import { model, retry, service, slice } from '../test/translate/fixtures.ts';

export async function runProgrammedBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { proxies: { type: 'string', default: '10000' }, services: { type: 'string', default: '200' }, namespaces: { type: 'string', default: '20' } },
  });
  const [n, s, k] = [Number(values.proxies), Number(values.services), Number(values.namespaces)];
  const objects = Array.from({ length: s }, (_, i) => [
    service(`svc-${i}`, [{ name: 'http', port: 80 }], { clusterIP: `10.96.${Math.floor(i / 250)}.${(i % 250) + 1}` }),
    slice(`svc-${i}`, `svc-${i}`, [{ name: 'http', port: 8080 }], [{ ip: `10.244.${Math.floor(i / 250)}.${(i % 250) + 1}` }]),
    retry(`svc-${i}`, `svc-${i}`),
  ]).flat();
  const m = model(...objects);
  const cache = new SnapshotCache({ generate: translate, checkConsistency, model: m });
  const proxies: ProxyInfo[] = Array.from({ length: n }, (_, i) => ({ id: `p-${i}`, kind: 'sidecar', namespace: `ns-${i % k}`, labels: {}, capture: true }));
  const streams: StreamDebug[] = proxies.map((p, i) => {
    const snap = cache.snapshotFor(p)!;
    const routes = [...(snap.resources.get(TypeUrl.Route)?.keys() ?? [])];
    const v = snap.typeVersions.get(TypeUrl.Route) ?? '';
    return {
      stream: `s${i}`,
      protocol: 'sotw',
      proxy: p,
      group: p.namespace,
      connectedSince: '',
      snapshotVersion: snap.version,
      types: [
        { typeUrl: TypeUrl.Cluster, subscribed: '*', versionSent: 'c', versionAcked: 'c' },
        { typeUrl: TypeUrl.Route, subscribed: routes, versionSent: v, versionAcked: v },
      ],
    };
  });
  const view: ProxyView = { model: () => m, streams: () => streams, snapshotFor: (p) => cache.snapshotFor(p) };
  const progress = new LocalProgress('bench', view, 0);
  const times: number[] = [];
  let report = progress.report();
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    report = progress.report();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const t = report.resources.get('RetryPolicy shop/svc-0');
  console.log(
    `report pass over ${n} proxies in ${k} groups, ${s} Services with a RetryPolicy each: median ${times[5]!.toFixed(1)} ms, max ${times[9]!.toFixed(1)} ms; ` +
      `report ${encodeReport(report).length} bytes (RetryPolicy shop/svc-0: ${t?.acked}/${t?.affected} acknowledged)`,
  );
}
