// Which endpoints clients originate mTLS to (EndpointAddress.meshed): a sidecar (Pod facts,
// else the Service annotation) AND a destination mode that accepts mTLS on that port.
import { describe, expect, it } from 'vitest';
import { buildModel, workloadFacts } from '../../src/model/build.ts';
import type { MeshModel } from '../../src/model/types.ts';
import { must, peerAuth, slice } from '../model/fixtures.ts';

function svc(name: string, opts: { annotated?: boolean; targetPort?: number | string; selector?: Record<string, string> } = {}) {
  return must({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'shop', ...(opts.annotated ? { annotations: { 'weft.dev/mtls': 'true' } } : {}) },
    spec: { selector: opts.selector ?? { app: name }, ports: [{ name: 'http', port: 80, targetPort: opts.targetPort ?? 8080 }] },
  });
}

/** `address→meshed` for the service's only port. */
function marks(m: MeshModel, name: string): Record<string, boolean> {
  const eps = m.services.get(`shop/${name}`)?.ports[0]?.endpoints ?? [];
  return Object.fromEntries(eps.map((e) => [e.address, e.meshed === true]));
}

const pods = [
  { ip: '10.0.0.1', pod: 'web-a' },
  { ip: '10.0.0.2', pod: 'web-b' },
];

describe('meshed endpoints', () => {
  it('follows the Service annotation when nothing is known about Pods', () => {
    const m = buildModel([
      svc('web', { annotated: true }),
      slice('web-1', 'web', [{ name: 'http', port: 8080 }], pods),
      svc('api'),
      slice('api-1', 'api', [{ name: 'http', port: 8080 }], [{ ip: '10.0.1.1' }]),
    ]);
    expect(marks(m, 'web')).toEqual({ '10.0.0.1': true, '10.0.0.2': true });
    expect(marks(m, 'api')).toEqual({ '10.0.1.1': false });
  });

  it('prefers Pod facts (the injection status annotation) over the Service annotation', () => {
    const workloads = [
      workloadFacts({ namespace: 'shop', name: 'web-a', labels: { app: 'web' }, annotations: { 'weft.dev/status': '{}' } }),
      workloadFacts({ namespace: 'shop', name: 'web-b', labels: { app: 'web' } }),
    ];
    const objects = [svc('web', { annotated: true }), slice('web-1', 'web', [{ name: 'http', port: 8080 }], pods)];
    expect(marks(buildModel(objects, { workloads }), 'web')).toEqual({ '10.0.0.1': true, '10.0.0.2': false });
    // Pods of another namespace with the same names are not these Pods.
    const elsewhere = workloads.map((w) => ({ ...w, namespace: 'blog' }));
    expect(marks(buildModel(objects, { workloads: elsewhere }), 'web')).toEqual({ '10.0.0.1': true, '10.0.0.2': true });
  });

  it("leaves endpoints whose destination DISABLEs mTLS unmeshed, judged by the Pod's own labels", () => {
    const workloads = [
      workloadFacts({ namespace: 'shop', name: 'web-a', labels: { app: 'web', track: 'legacy' }, annotations: { 'weft.dev/status': '{}' } }),
      workloadFacts({ namespace: 'shop', name: 'web-b', labels: { app: 'web' }, annotations: { 'weft.dev/status': '{}' } }),
    ];
    const m = buildModel(
      [
        svc('web'),
        slice('web-1', 'web', [{ name: 'http', port: 8080 }], pods),
        peerAuth('legacy', { selector: { matchLabels: { track: 'legacy' } }, mtls: { mode: 'DISABLE' } }),
      ],
      { workloads },
    );
    expect(marks(m, 'web')).toEqual({ '10.0.0.1': false, '10.0.0.2': true });
  });

  it('applies port-level modes by container port: a numeric targetPort, else the endpoint port', () => {
    const policy = peerAuth('web', { selector: { matchLabels: { app: 'web' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'DISABLE' } } });
    const numeric = buildModel([svc('web', { annotated: true }), slice('web-1', 'web', [{ name: 'http', port: 8080 }], pods), policy]);
    expect(marks(numeric, 'web')).toEqual({ '10.0.0.1': false, '10.0.0.2': false });
    // Explicit-mode servers: the endpoint port is the proxy's inbound port, targetPort the app's.
    const viaProxy = buildModel([svc('web', { annotated: true }), slice('web-1', 'web', [{ name: 'http', port: 15008 }], pods), policy]);
    expect(marks(viaProxy, 'web')).toEqual({ '10.0.0.1': false, '10.0.0.2': false });
    const named = buildModel([svc('web', { annotated: true, targetPort: 'http' }), slice('web-1', 'web', [{ name: 'http', port: 8080 }], pods), policy]);
    expect(marks(named, 'web')).toEqual({ '10.0.0.1': false, '10.0.0.2': false });
    const namedOther = buildModel([svc('web', { annotated: true, targetPort: 'http' }), slice('web-1', 'web', [{ name: 'http', port: 9000 }], pods), policy]);
    expect(marks(namedOther, 'web')).toEqual({ '10.0.0.1': true, '10.0.0.2': true });
  });

  it('uses the Service selector as the workload labels for annotated Services', () => {
    const policy = peerAuth('off', { selector: { matchLabels: { tier: 'db' } }, mtls: { mode: 'DISABLE' } });
    const m = buildModel([
      svc('db', { annotated: true, selector: { app: 'db', tier: 'db' } }),
      slice('db-1', 'db', [{ name: 'http', port: 8080 }], pods),
      policy,
    ]);
    expect(marks(m, 'db')).toEqual({ '10.0.0.1': false, '10.0.0.2': false });
  });

  it('changes the model version only when a mark changes', () => {
    const objects = [svc('web'), slice('web-1', 'web', [{ name: 'http', port: 8080 }], pods)];
    const plain = buildModel(objects);
    expect(buildModel(objects, { workloads: [] }).version).toBe(plain.version);
    const sidecars = pods.map((p) => workloadFacts({ namespace: 'shop', name: p.pod, annotations: { 'weft.dev/status': '{}' } }));
    expect(buildModel(objects, { workloads: sidecars }).version).not.toBe(plain.version);
    expect(buildModel(objects, { workloads: [...sidecars].reverse() }).version).toBe(buildModel(objects, { workloads: sidecars }).version);
  });
});
