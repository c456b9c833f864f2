// When injection must not happen, and how bad per-pod input degrades (warnings, not failures).
import { describe, expect, it } from 'vitest';
import { handleInject } from '../../webhook/admission.ts';
import { injectPod, type SkipReason } from '../../webhook/inject.ts';
import type { Pod } from '../../webhook/pod.ts';
import { parseInjectValues } from '../../webhook/values.ts';
import { podRequest, testContext, trustBundlePem } from './fixtures.ts';

function pod(extra: { annotations?: Record<string, string>; labels?: Record<string, string>; hostNetwork?: boolean; containers?: string[] } = {}): Pod {
  return {
    metadata: { name: 'p', ...(extra.annotations ? { annotations: extra.annotations } : {}), ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: { containers: (extra.containers ?? ['app']).map((name) => ({ name, image: 'x' })), ...(extra.hostNetwork ? { hostNetwork: true } : {}) },
  };
}

describe('skips', () => {
  const cases: [string, Pod, string, SkipReason][] = [
    ['unlabeled namespace', pod(), 'plain', 'namespace-not-enabled'],
    ['namespace unknown to the cache', pod(), 'nowhere', 'namespace-not-enabled'],
    ['opted out', pod({ annotations: { 'weft.dev/inject': 'false' } }), 'shop', 'opted-out'],
    ['opted out by label', pod({ labels: { 'weft.dev/inject': 'false' } }), 'shop', 'opted-out'],
    ['host network', pod({ hostNetwork: true }), 'shop', 'host-network'],
    ['already injected (status)', pod({ annotations: { 'weft.dev/status': '{}' } }), 'shop', 'already-injected'],
    ['already injected (container)', pod({ containers: ['app', 'weft-proxy'] }), 'shop', 'already-injected'],
    ['kube-system even if labeled', pod(), 'kube-system', 'protected-namespace'],
    ['control plane namespace', pod(), 'weft-system', 'protected-namespace'],
    ['kube-node-lease', pod(), 'kube-node-lease', 'protected-namespace'],
  ];
  it.each(cases)('%s', (_name, p, ns, reason) => {
    const r = injectPod(p, ns, testContext());
    expect(r).toMatchObject({ skip: { reason } });
    if ('skip' in r) expect(r.skip.message.length).toBeGreaterThan(10);
  });

  it('leaves the input pod untouched when injecting', () => {
    const p = pod();
    const before = structuredClone(p);
    expect('pod' in injectPod(p, 'shop', testContext())).toBe(true);
    expect(p).toEqual(before);
  });

  it('answers non-Pod and non-CREATE requests without a patch', () => {
    const r = handleInject({ ...podRequest(pod() as Record<string, unknown>), operation: 'UPDATE' }, testContext());
    expect(r).toMatchObject({ result: 'skipped', reason: 'not-a-pod-create', response: { allowed: true } });
    expect(r.response.patch).toBeUndefined();
  });

  it('rejects a malformed pod with the field named', () => {
    const r = handleInject(podRequest({ spec: { containers: [{ image: 'x' }] } }), testContext());
    expect(r.result).toBe('invalid');
    if (r.result === 'invalid') expect(r.reason).toContain('request.object.spec.containers.0.name');
  });
});

describe('bad annotations become warnings', () => {
  it('ignores invalid ports, CIDRs, quantities and log levels, naming each', () => {
    const r = injectPod(
      pod({
        annotations: {
          'weft.dev/exclude-inbound-ports': '80,abc,70000',
          'weft.dev/exclude-outbound-cidrs': '10.0.0.0/33',
          'weft.dev/proxy-cpu': 'lots',
          'weft.dev/proxy-log-level': 'loud',
        },
      }),
      'shop',
      testContext(),
    );
    if (!('pod' in r)) throw new Error('skipped');
    expect(r.warnings).toHaveLength(5);
    expect(r.warnings.join('\n')).toMatch(/"abc".*\n.*"70000"/);
    const init = r.pod.spec.initContainers?.find((c) => c.name === 'weft-init') as { args: string[] } | undefined;
    expect(init?.args[0]).toContain('--dport 80 -j RETURN');
    const proxy = r.pod.spec.initContainers?.find((c) => c.name === 'weft-proxy') as { resources: unknown; args: string[] } | undefined;
    expect(proxy?.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    expect(proxy?.args).toContain('warning');
  });

  it('raises the memory limit when an annotation asks for more than it', () => {
    const r = injectPod(pod({ annotations: { 'weft.dev/proxy-memory': '1Gi', 'weft.dev/proxy-cpu': '250m' } }), 'shop', testContext());
    if (!('pod' in r)) throw new Error('skipped');
    const proxy = r.pod.spec.initContainers?.find((c) => c.name === 'weft-proxy') as { resources: unknown } | undefined;
    expect(proxy?.resources).toEqual({ requests: { cpu: '250m', memory: '1Gi' }, limits: { memory: '1Gi' } });
  });
});

describe('values', () => {
  it('derives the xDS address from the control-plane namespace', () => {
    const r = parseInjectValues({ trustBundlePem, controlPlaneNamespace: 'mesh' });
    expect(r).toMatchObject({ ok: true, values: { xdsAddress: 'weft.mesh.svc:15012' } });
  });

  it('reports every invalid value by field', () => {
    const r = parseInjectValues({
      trustBundlePem: 'nope',
      excludeInboundPorts: [0],
      excludeOutboundCidrs: ['x'],
      proxyResources: { requests: { cpu: 'a lot' } },
      bogus: 1,
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      const text = r.errors.join('\n');
      for (const field of ['trustBundlePem', 'excludeInboundPorts.0', 'excludeOutboundCidrs.0', 'proxyResources.requests.cpu']) expect(text).toContain(field);
    }
  });
});
