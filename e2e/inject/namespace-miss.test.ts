// A namespace created moments before its first pod may not be in the informer cache yet.
// Injection must then ask the API server instead of admitting an unmeshed pod.
import { describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/k8s/client.ts';
import { log } from '../../src/base/log.ts';
import { injectContext, type NamespaceLabelSource } from '../../src/runtime/controller/webhook-wiring.ts';
import { parseInjectValues } from '../../webhook/values.ts';
import { kubeConfig, tempNamespace } from '../support/kube.ts';

describe('namespace labels on a cache miss', () => {
  it('reads the namespace from the real API server once, and falls back to the cache when that fails', async () => {
    const ns = await tempNamespace('weft-nsmiss', { 'weft.dev/inject': 'enabled' });
    const client = new KubeClient(await kubeConfig());
    let fetches = 0;
    const src: NamespaceLabelSource = {
      cached: () => undefined, // the informer has not seen it yet
      fetch: async (name) => {
        fetches += 1;
        const obj = await client.request<{ metadata?: { labels?: Record<string, string> } }>('GET', `/api/v1/namespaces/${name}`);
        return obj.metadata?.labels ?? {};
      },
      log,
    };
    const values = parseInjectValues({
      xdsAddress: 'weft.weft-system.svc:15012',
      trustBundlePem: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n',
    });
    expect(values.ok).toBe(true);
    if (!values.ok) return;
    const ctx = await injectContext(src, values.values, ns);
    expect(ctx.namespaceLabels(ns)?.['weft.dev/inject']).toBe('enabled');
    expect(fetches).toBe(1);

    const failing: NamespaceLabelSource = { ...src, fetch: () => Promise.reject(new Error('API down')) };
    const fallback = await injectContext(failing, values.values, ns);
    expect(fallback.namespaceLabels(ns)).toBeUndefined();
  });
});
