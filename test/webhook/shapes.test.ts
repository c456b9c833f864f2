// What each sidecar shape promises, beyond the golden files: the native shape puts the proxy
// where the kubelet starts it before everything of the app's and stops it after, and adds
// nothing that would keep a Job's Pod from completing; the plain-container shape keeps the
// proxy out of the init sequence (the app's init containers run before capture).
import { describe, expect, it } from 'vitest';
import { injectPod } from '../../webhook/inject.ts';
import type { Pod } from '../../webhook/pod.ts';
import { testContext } from './fixtures.ts';

type Loose = Record<string, unknown> & { name: string };
const job: Pod = {
  metadata: { name: 'migrate-x', namespace: 'shop', labels: { 'job-name': 'migrate' } },
  spec: {
    restartPolicy: 'Never',
    initContainers: [{ name: 'wait-db', image: 'busybox' }],
    containers: [{ name: 'migrate', image: 'example/migrate:1', livenessProbe: { httpGet: { path: '/healthz', port: 8080 } } }],
  } as Pod['spec'],
};

function inject(mode: 'native' | 'container'): {
  spec: Record<string, unknown> & { initContainers?: Loose[]; containers: Loose[] };
  annotations: Record<string, string>;
} {
  const r = injectPod(structuredClone(job), 'shop', testContext({ sidecarMode: mode }));
  if (!('pod' in r)) throw new Error(JSON.stringify(r));
  return { spec: r.pod.spec as never, annotations: r.pod.metadata?.annotations ?? {} };
}

describe('sidecar shapes', () => {
  it('native: capture, then the proxy (restartPolicy Always, startupProbe on config), then the app init containers; nothing that blocks Job completion', () => {
    const { spec, annotations } = inject('native');
    expect(spec.initContainers?.map((c) => c.name)).toEqual(['weft-init', 'weft-proxy', 'wait-db']);
    expect(spec.containers.map((c) => c.name)).toEqual(['migrate']);
    const proxy = spec.initContainers?.[1] ?? { name: '' };
    expect(proxy.restartPolicy).toBe('Always');
    expect(proxy.startupProbe).toMatchObject({ httpGet: { path: '/healthz/ready', port: 15021 }, periodSeconds: 1, failureThreshold: 600 });
    expect(proxy.readinessProbe).toMatchObject({ httpGet: { path: '/healthz/ready', port: 15021 } });
    // No hooks (no binary needed in the proxy image, nothing delaying termination), no shared
    // process namespace, no change to the Pod's restartPolicy.
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) expect(c.lifecycle, c.name).toBeUndefined();
    expect(spec.shareProcessNamespace).toBeUndefined();
    expect(spec.restartPolicy).toBe('Never');
    expect(JSON.parse(annotations['weft.dev/status'] ?? '{}')).toMatchObject({ initContainers: ['weft-init', 'weft-proxy'], containers: [] });
  });

  it('container: the app init containers first, capture last, the proxy next to the app without a startupProbe', () => {
    const { spec, annotations } = inject('container');
    expect(spec.initContainers?.map((c) => c.name)).toEqual(['wait-db', 'weft-init']);
    expect(spec.containers.map((c) => c.name)).toEqual(['migrate', 'weft-proxy']);
    const proxy = spec.containers[1] ?? { name: '' };
    expect(proxy.restartPolicy).toBeUndefined();
    expect(proxy.startupProbe).toBeUndefined();
    expect(proxy.readinessProbe).toMatchObject({ httpGet: { path: '/healthz/ready', port: 15021 }, periodSeconds: 2, failureThreshold: 30 });
    expect(JSON.parse(annotations['weft.dev/status'] ?? '{}')).toMatchObject({ initContainers: ['weft-init'], containers: ['weft-proxy'] });
  });

  it("both: the app liveness probe goes to the proxy's static route, the same in either shape", () => {
    const native = inject('native').spec.containers[0]?.livenessProbe;
    expect(native).toEqual({ httpGet: { path: '/app-health/migrate/livez', port: 15021, scheme: 'HTTP' } });
    expect(inject('container').spec.containers[0]?.livenessProbe).toEqual(native);
  });
});
